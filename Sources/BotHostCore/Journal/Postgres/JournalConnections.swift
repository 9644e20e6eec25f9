import BotHostKit
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// A few connections to the lock database, shared by the journals of this host's bots and
/// lent for one operation at a time.
///
/// Not `PostgresClient`: its pool retries an unreachable server forever and its queries
/// wait for it without end (postgres-nio issues 489 and 565), where a bot opening its
/// journal must fail within the connect timeout. Not the lock session's connection either:
/// that one proves the locks alive, and a journal's queries must not delay its heartbeat.
///
/// Every connection lent is to a database whose journal tables are ready
/// (``JournalSchema``), and every operation ends within ``answerTimeout``, failing when no
/// answer came (its connection is closed then), so a silent network fails a write instead
/// of hanging a bot's shutdown on it.
actor JournalConnections {
    /// `host:port/database`, what messages name.
    nonisolated let place: String
    nonisolated let logger: Logger
    private let configuration: PostgresConnection.Configuration
    private let limit: Int
    private let answerTimeout: Duration

    private var idle: [PostgresConnection] = []
    /// Connections lent, idle or being opened.
    private var count = 0
    /// Operations waiting for a connection to be given back, first come first served.
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var schemaReady = false
    private var closed = false
    private var nextID = 0

    /// - Parameters:
    ///   - answerTimeout: the longest one operation may wait for the server's answers.
    ///   - limit: the most connections open at once; operations beyond it wait their turn.
    init(database: LockDatabase, logger: Logger, answerTimeout: Duration, limit: Int = 4) {
        place = database.endpoint
        var configuration = database.configuration
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
        self.configuration = configuration
        self.logger = logger
        self.limit = limit
        self.answerTimeout = answerTimeout
    }

    /// Tells journal sessions from the lock session (`bothost/...`) in `pg_stat_activity`.
    private static var applicationName: String {
        var name = "bothost-journal/\(getpid())@\(currentHostname())"
        while name.utf8.count > AdvisoryLockHolders.applicationNameLimit { name.removeLast() }
        return name
    }

    /// Runs `body` on a connection of its own. Throws what `body` throws, or why no
    /// connection could be had or no answer came.
    nonisolated func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await borrow()
        do {
            let value = try await answered { try await body(connection) }
            await giveBack(connection, usable: true)
            return value
        } catch {
            await giveBack(connection, usable: !(error is NoAnswer))
            throw error
        }
    }

    /// Runs `operation`, which queries a connection, and returns what it returns; throws
    /// ``NoAnswer`` once ``answerTimeout`` has passed, abandoning the operation, whose
    /// connection the caller then closes. Abandoned, not awaited: PostgresNIO may never
    /// complete a query written to a connection closed under it (the write goes nowhere;
    /// postgres-nio #487, reverted).
    private nonisolated func answered<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let limit = answerTimeout
        let answer = Answer<T>()
        return try await withCheckedThrowingContinuation { continuation in
            answer.hold(continuation)
            // Cancelled as soon as the operation ends.
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                answer.give(.failure(NoAnswer(limit: limit)))
            }
            // Ends with the operation, which closing its connection ends in all but
            // PostgresNIO's lost writes.
            Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await operation())
                } catch {
                    result = .failure(error)
                }
                timer.cancel()
                answer.give(result)
            }
        }
    }

    /// Closes the connections; operations after fail.
    func close() async {
        closed = true
        let connections = idle
        idle = []
        count -= connections.count
        wakeAll(throwing: Closed())
        for connection in connections { try? await connection.close() }
    }

    /// No answer came within the answer timeout; the connection was closed.
    struct NoAnswer: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "the database did not answer within \(formatDuration(limit))" }
    }

    /// The server could not be reached or refused the login.
    struct CannotConnect: Error, CustomStringConvertible {
        var problem: String
        var description: String { "cannot connect: \(problem)" }
    }

    /// The host is stopping.
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the host is stopping" }
    }

    // MARK: - Lending

    private func borrow() async throws -> PostgresConnection {
        while true {
            guard !closed else { throw Closed() }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                count -= 1
            }
            if count < limit {
                count += 1
                do {
                    return try await connect()
                } catch {
                    count -= 1
                    // Those who queued meanwhile would wait for a database that just failed
                    // a connection: each operation waits at most one connect timeout.
                    wakeAll(throwing: error)
                    throw error
                }
            }
            try await withCheckedThrowingContinuation { waiters.append($0) }
        }
    }

    /// Takes back a lent connection; one not `usable` (given up on) is closed, not lent again.
    private func giveBack(_ connection: PostgresConnection, usable: Bool) async {
        let keep = usable && !closed && !connection.isClosed
        if keep { idle.append(connection) } else { count -= 1 }
        if !waiters.isEmpty { waiters.removeFirst().resume() }
        if !keep { try? await connection.close() }
    }

    private func wakeAll(throwing error: any Error) {
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.resume(throwing: error) }
    }

    /// A new connection, with the journal tables made ready on the first one.
    private func connect() async throws -> PostgresConnection {
        nextID += 1
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
        } catch {
            throw CannotConnect(problem: LockSession.describe(error))
        }
        do {
            let prepareSchema = !schemaReady
            try await answered { [place, logger] in
                // The server ends what a vanished host left open within seconds: a transaction
                // holding its bot's row, which the next holder's `open()` waits for. Set by
                // query, not in the startup message, where PgBouncer refuses such parameters.
                try await connection.query(
                    """
                    SELECT set_config('statement_timeout', '5s', false),
                      set_config('idle_in_transaction_session_timeout', '5s', false)
                    """, logger: logger)
                if prepareSchema { try await JournalSchema.prepare(on: connection, place: place, logger: logger) }
            }
            schemaReady = true
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs `body` in a transaction on `connection`: committed when `body` returns, rolled
    /// back when it throws, whose error is thrown as it is.
    static func transaction<T>(
        on connection: PostgresConnection, logger: Logger, _ body: () async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        do {
            let value = try await body()
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            // A closed connection has nothing to roll back (and a query written to it might
            // never end); one that cannot roll back is in no state to be lent again.
            guard !connection.isClosed else { throw error }
            do {
                try await connection.query("ROLLBACK", logger: logger)
            } catch {
                try? await connection.close()
            }
            throw error
        }
    }
}

/// The first of an operation's result and its timeout, handed to the one who waits.
private final class Answer<T: Sendable>: Sendable {
    private let waiter = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func hold(_ continuation: CheckedContinuation<T, any Error>) {
        waiter.withLock { $0 = continuation }
    }

    /// Resumes the waiter with `result`, unless it was resumed already.
    func give(_ result: Result<T, any Error>) {
        waiter.withLock { $0.take() }?.resume(with: result)
    }
}
