import BotHostKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The one database session that carries every advisory lock of this host.
///
/// Session advisory locks belong to a connection: a pooled one is closed when idle and
/// its locks silently go with it. So the host keeps one dedicated connection, proves it
/// alive with a heartbeat, and when it fails ends every lock taken on it, so that their
/// bots stop polling (see ``LockSessionTiming``). The next ``tryAcquire(_:owner:)``, a
/// standby's, connects again.
actor LockSession {
    private let database: LockDatabase
    private let timing: LockSessionTiming
    private let logger: Logger
    private let applicationName: String

    /// An open connection; `generation` tells it from the ones before and after.
    private struct Connection: Sendable {
        let postgres: PostgresConnection
        let backendPID: Int32
        let generation: UInt64
    }

    private var connection: Connection?
    private var connecting: Task<Connection, any Error>?
    private var generation: UInt64 = 0
    private var heartbeat: Task<Void, Never>?
    private var lastFailure: (at: ContinuousClock.Instant, error: TokenLockError)?
    /// The locks taken on the current connection, by key.
    private var held: [Int64: HeldAdvisoryLock] = [:]
    /// Keys being taken: locks are re-entrant within a session, so a second taker here
    /// would share the lock instead of being refused.
    private var acquiring: Set<Int64> = []
    private var holders: (at: ContinuousClock.Instant, holders: AdvisoryLockHolders)?
    private var readingHolders: Task<AdvisoryLockHolders, any Error>?
    private var closed = false

    init(database: LockDatabase, timing: LockSessionTiming, logger: Logger) {
        self.database = database
        self.timing = timing
        self.logger = logger
        self.applicationName = AdvisoryLockHolders.applicationName(pid: getpid(), hostname: currentHostname())
    }

    func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt {
        let key = id.advisoryLockKey
        guard held[key] == nil, !acquiring.contains(key) else { return .heldElsewhere(owner) }
        acquiring.insert(key)
        defer { acquiring.remove(key) }
        let connection = try await connected()
        do {
            if let holder = try await recentHolders(on: connection).byKey[key] {
                return .heldElsewhere(holder.owner(bot: owner.bot))
            }
            let (locked, backendPID) = try await answered(on: connection, what: "a lock request") {
                let rows = try await connection.postgres.query(
                    "SELECT pg_try_advisory_lock(\(key)), pg_backend_pid()", logger: logger)
                var answer: (Bool, Int32)?
                for try await row in rows.decode((Bool, Int32).self) { answer = row }
                guard let answer else { throw TokenLockError.database(endpoint: database.endpoint, problem: "no answer row") }
                return answer
            }
            try checkSameBackend(backendPID, on: connection)
            guard self.connection?.generation == connection.generation else {
                throw TokenLockError.database(endpoint: database.endpoint, problem: "the session ended while taking a lock")
            }
            guard locked else { return .heldElsewhere(nil) }
            let lock = HeldAdvisoryLock(
                id: id, generation: connection.generation, session: self, takeoverDelay: timing.takeoverDelay)
            held[key] = lock
            return .acquired(lock)
        } catch let error as TokenLockError {
            throw error
        } catch {
            let problem = Self.describe(error)
            lose(connection.generation, problem: problem)
            throw .database(endpoint: database.endpoint, problem: problem)
        }
    }

    /// Whether a session (this one included) holds the lock, from a snapshot of the
    /// server's advisory locks at most `holdersMaxAge` old. A failed read throws and leaves
    /// the session alone: the heartbeat tells a lost session, and a look must not end the
    /// host's locks.
    func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting {
        let connection = try await connected()
        do {
            guard let holder = try await recentHolders(on: connection).byKey[id.advisoryLockKey] else { return .free }
            return .held(holder.owner(bot: bot))
        } catch let error as TokenLockError {
            throw error
        } catch {
            throw .database(endpoint: database.endpoint, problem: Self.describe(error))
        }
    }

    /// Unlocks `lock` if its session still runs; a session that ended took the lock with it.
    func release(_ lock: HeldAdvisoryLock) async {
        guard held[lock.key] === lock, let connection, connection.generation == lock.generation else { return }
        held[lock.key] = nil
        holders = nil
        do {
            _ = try await answered(on: connection, what: "an unlock") {
                try await connection.postgres.query("SELECT pg_advisory_unlock(\(lock.key))", logger: logger)
            }
        } catch {
            lose(connection.generation, problem: "an unlock failed: \(Self.describe(error))")
        }
    }

    /// Closes the connection, which frees whatever is still held; no connection opens after.
    func close() async {
        closed = true
        connecting?.cancel()
        heartbeat?.cancel()
        guard let connection else { return }
        self.connection = nil
        for lock in held.values { lock.end(.released) }
        held = [:]
        try? await connection.postgres.close()
    }

    // MARK: - The connection

    private func connected() async throws(TokenLockError) -> Connection {
        if let connection { return connection }
        guard !closed else { throw .database(endpoint: database.endpoint, problem: "the host is stopping") }
        if let lastFailure, ContinuousClock.now - lastFailure.at < timing.reconnectDelay { throw lastFailure.error }
        // Shared by every caller that needs the connection meanwhile; ends with the attempt.
        let attempt = connecting ?? Task { try await open() }
        connecting = attempt
        do {
            return try await attempt.value
        } catch let error as TokenLockError {
            throw error
        } catch {
            throw .database(endpoint: database.endpoint, problem: Self.describe(error))
        }
    }

    /// Connects, names the session for `pg_locks` readers, and sets the server's TCP
    /// keepalives so that it frees the locks of a host that vanished within seconds.
    private func open() async throws(TokenLockError) -> Connection {
        defer { connecting = nil }
        generation += 1
        let generation = self.generation
        var configuration = database.configuration
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        do {
            let postgres = try await PostgresConnection.connect(
                configuration: configuration, id: Int(truncatingIfNeeded: generation), logger: logger)
            let connection: Connection
            do {
                let rows = try await postgres.query(
                    """
                    SELECT pg_backend_pid(),
                      set_config('tcp_keepalives_idle', \(String(timing.keepaliveIdle)), false),
                      set_config('tcp_keepalives_interval', \(String(timing.keepaliveInterval)), false),
                      set_config('tcp_keepalives_count', \(String(timing.keepaliveCount)), false),
                      set_config('tcp_user_timeout', \(String(Int(timing.serverDetection.components.seconds) * 1000)), false)
                    """, logger: logger)
                var backendPID: Int32?
                for try await (pid, _, _, _, _) in rows.decode((Int32, String, String, String, String).self) {
                    backendPID = pid
                }
                guard let backendPID, !closed else { throw CancellationError() }
                if try await Self.anotherClientGetsBackend(backendPID, configuration: database.configuration, logger: logger) {
                    throw TokenLockError.database(endpoint: database.endpoint, problem: Self.pooledProblem)
                }
                connection = Connection(postgres: postgres, backendPID: backendPID, generation: generation)
            } catch {
                try? await postgres.close()
                throw error
            }
            self.connection = connection
            lastFailure = nil
            postgres.closeFuture.whenComplete { _ in
                // Ends at once: it only tells the session, from NIO's callback.
                Task { await self.lose(generation, problem: "the server closed the connection") }
            }
            // Owned by the session: `lose` and `close` cancel it.
            heartbeat = Task { await beat(connection) }
            logger.info(
                "lock database session open",
                metadata: ["lock_database": "\(database.endpoint)", "backend_pid": .stringConvertible(connection.backendPID)])
            return connection
        } catch {
            let failure = TokenLockError.database(
                endpoint: database.endpoint, problem: closed ? "the host is stopping" : "cannot connect: \(Self.describe(error))")
            lastFailure = (.now, failure)
            throw failure
        }
    }

    /// Proves the session alive every `heartbeatInterval`; the first unanswered or failed
    /// beat ends it.
    private func beat(_ connection: Connection) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: timing.heartbeatInterval)
            guard !Task.isCancelled, self.connection?.generation == connection.generation else { return }
            do {
                let backendPID = try await answered(on: connection, what: "a heartbeat") {
                    let rows = try await connection.postgres.query("SELECT pg_backend_pid()", logger: logger)
                    var backendPID: Int32 = 0
                    for try await pid in rows.decode(Int32.self) { backendPID = pid }
                    return backendPID
                }
                try checkSameBackend(backendPID, on: connection)
            } catch {
                lose(connection.generation, problem: "a heartbeat failed: \(Self.describe(error))")
                return
            }
        }
    }

    /// Runs `body`, a query on `connection`; gives the session up if no answer comes
    /// within `answerTimeout` (which also fails the query, as the connection closes).
    private func answered<T: Sendable>(
        on connection: Connection, what: String, _ body: () async throws -> T
    ) async throws -> T {
        let limit = timing.answerTimeout
        // Cancelled below as soon as `body` ends.
        let watchdog = Task {
            try await Task.sleep(for: limit)
            lose(connection.generation, problem: "no answer to \(what) within \(formatDuration(limit))")
        }
        defer { watchdog.cancel() }
        return try await body()
    }

    // MARK: - Transaction pooling

    /// Why a transaction-pooling proxy (PgBouncer's `pool_mode = transaction`) is refused:
    /// it hands each transaction to any server session, so a lock taken in one is not held
    /// by the next, and mutual exclusion is gone.
    static let pooledProblem =
        "a transaction-pooling proxy (PgBouncer) sits in between and breaks session locks; "
        + "connect to PostgreSQL directly or use session pooling"

    /// Whether a second client lands on the server session `backendPID` of ours: never on
    /// PostgreSQL itself, where every connection has its own; at once behind a transaction
    /// pooler, which hands our idle session to the next client.
    private static func anotherClientGetsBackend(
        _ backendPID: Int32, configuration: PostgresConnection.Configuration, logger: Logger
    ) async throws -> Bool {
        let probe = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            var probePID: Int32?
            for try await pid in try await probe.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) {
                probePID = pid
            }
            try? await probe.close()
            return probePID == backendPID
        } catch {
            try? await probe.close()
            throw error
        }
    }

    /// A session whose backend changes under it is behind a transaction pooler too: the
    /// check for whatever the one at connect time missed.
    private func checkSameBackend(_ backendPID: Int32, on connection: Connection) throws(TokenLockError) {
        guard backendPID != connection.backendPID else { return }
        let problem = "the session moved from server backend \(connection.backendPID) to \(backendPID): \(Self.pooledProblem)"
        lose(connection.generation, problem: problem)
        throw .database(endpoint: database.endpoint, problem: problem)
    }

    /// Ends the connection of `generation` if it is still the current one: every lock on it
    /// ends, so that its bot stops polling.
    private func lose(_ generation: UInt64, problem: String) {
        guard let connection, connection.generation == generation else { return }
        self.connection = nil
        holders = nil
        heartbeat?.cancel()
        heartbeat = nil
        let lost = Array(held.values)
        held = [:]
        if !closed {
            logger.error(
                "lock database session lost: \(problem); its \(lost.count) bots stop polling and take their locks again when it is back",
                metadata: ["lock_database": "\(database.endpoint)"])
        }
        for lock in lost { lock.end(.sessionEnded(problem)) }
        // A host that just lost its session is the least healthy candidate: other hosts'
        // standbys get a head start before this one connects again.
        lastFailure = (.now, .database(endpoint: database.endpoint, problem: problem))
        let postgres = connection.postgres
        postgres.close().whenComplete { _ in _ = postgres }
    }

    /// The server's advisory locks, read at most every `holdersMaxAge`: a host's standbys
    /// share one read.
    private func recentHolders(on connection: Connection) async throws -> AdvisoryLockHolders {
        if let holders, ContinuousClock.now - holders.at < timing.holdersMaxAge { return holders.holders }
        // Shared by the standbys that ask meanwhile; ends with the query.
        let reading =
            readingHolders ?? Task { [logger] in try await AdvisoryLockHolders.read(on: connection.postgres, logger: logger) }
        readingHolders = reading
        defer { readingHolders = nil }
        let read = try await answered(on: connection, what: "a pg_locks read") { try await reading.value }
        holders = (.now, read)
        return read
    }

    /// What went wrong, in the server's words when it gave some. `PSQLError` describes
    /// itself generically on purpose (a query could hold secrets); its parts here do not.
    static func describe(_ error: any Error) -> String {
        if let error = error as? TokenLockError, case .database(_, let problem) = error { return problem }
        guard let error = error as? PSQLError else { return describeTransport(error) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return describeTransport(underlying) }
        if error.code == .sslUnsupported { return "the server offers no TLS, which the URL's sslmode requires" }
        return "\(error.code)"
    }

    /// A socket error as the system words it ("Connection refused"), not NIO's dump of it.
    private static func describeTransport(_ error: any Error) -> String {
        var error = error
        if let connection = error as? NIOConnectionError, let last = connection.connectionErrors.last {
            error = last.error
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}
