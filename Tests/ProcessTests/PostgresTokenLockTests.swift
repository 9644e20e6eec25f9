import BotHostCore
import Foundation
import Logging
import Testing

extension PostgresTests {
    /// `PostgresTokenLock` in this process against a real server: exclusion between sessions
    /// and within one, holders as `pg_locks` shows them, and self-fencing when the session ends
    /// or goes silent.
    @Suite struct PostgresTokenLockTests {
        let logger = Logger(label: "test.lock") { _ in SwiftLogNoOpLogHandler() }

        /// A lock on `server` that reads `pg_locks` afresh for every attempt.
        private func lock(on server: PostgresServer, timing: LockSessionTiming = LockSessionTiming()) throws -> PostgresTokenLock
        {
            var timing = timing
            timing.holdersMaxAge = .zero
            return PostgresTokenLock(
                database: try LockDatabase(url: server.url, passwordFile: nil, environment: [:]), timing: timing, logger: logger)
        }

        @Test func aLockIsExclusiveBetweenSessionsAndWithinOne() async throws {
            try await PostgresServer.with { server in
                let first = try lock(on: server)
                let second = try lock(on: server)
                let id = LockID(botID: "4242")
                let owner = LockOwner.currentProcess(bot: "support")

                guard case .acquired(let held) = try await first.tryAcquire(id, owner: owner) else {
                    Issue.record("a free lock was not taken")
                    return
                }
                guard case .heldElsewhere(let holder) = try await second.tryAcquire(id, owner: owner) else {
                    Issue.record("a second session took a held lock")
                    return
                }
                #expect(holder?.pid == getpid())
                #expect(holder?.hostname == owner.hostname)
                guard case .heldElsewhere = try await first.tryAcquire(id, owner: owner) else {
                    Issue.record("the holding session took its own lock twice")
                    return
                }
                let statuses = try await PostgresTokenLock.statuses(
                    of: [("support", id), ("other", LockID(botID: "4343"))],
                    database: try LockDatabase(url: server.url, passwordFile: nil, environment: [:]), logger: logger)
                #expect(statuses.map(\.state) == (id < LockID(botID: "4343") ? [.held, .free] : [.free, .held]))
                #expect(statuses.first { $0.id == id }?.pid == getpid())

                await held.release()
                #expect(try await held.lost() == .released)
                guard case .acquired(let taken) = try await second.tryAcquire(id, owner: owner) else {
                    Issue.record("a released lock was not free")
                    return
                }
                await taken.release()
                await first.shutdown()
                await second.shutdown()
            }
        }

        @Test func aTerminatedSessionEndsItsLocksAtOnce() async throws {
            try await PostgresServer.with { server in
                let tokenLock = try lock(on: server)
                guard
                    case .acquired(let held) = try await tokenLock.tryAcquire(
                        LockID(botID: "51"), owner: .currentProcess(bot: "a"))
                else {
                    Issue.record("a free lock was not taken")
                    return
                }
                #expect(try await server.terminateSession(ofHost: getpid()) == 1)
                let reason = try await held.lost()
                #expect(reason.canBeRetaken, "\(reason)")
                await tokenLock.shutdown()
            }
        }

        /// A session that stops answering (its server process stopped: as silent as a cut cable) is noticed by the
        /// heartbeat within `heartbeatInterval + answerTimeout`, and every lock ends.
        @Test func aSilentServerIsFencedByTheHeartbeat() async throws {
            try await PostgresServer.with { server in
                var timing = LockSessionTiming()
                timing.heartbeatInterval = .milliseconds(100)
                timing.answerTimeout = .seconds(1)
                let tokenLock = try lock(on: server, timing: timing)
                guard
                    case .acquired(let held) = try await tokenLock.tryAcquire(
                        LockID(botID: "61"), owner: .currentProcess(bot: "a"))
                else {
                    Issue.record("a free lock was not taken")
                    return
                }
                let backend = try #require(
                    try await server.query(
                        "SELECT pid::text FROM pg_stat_activity WHERE application_name LIKE 'bothost/\(getpid())@%'"
                    ).first.flatMap { Int32($0) })
                kill(backend, SIGSTOP)
                defer { kill(backend, SIGCONT) }
                let reason = try await held.lost()
                #expect("\(reason)".contains("no answer to a heartbeat within 1s"), "\(reason)")
                await tokenLock.shutdown()
            }
        }

        @Test func aTransactionPoolerIsRefused() async throws {
            try await PostgresServer.with { server in
                let url = try await server.startTransactionPooler()
                let tokenLock = PostgresTokenLock(
                    database: try LockDatabase(url: url, passwordFile: nil, environment: [:]), logger: logger)
                await #expect {
                    try await tokenLock.tryAcquire(LockID(botID: "71"), owner: .currentProcess(bot: "a"))
                } throws: { error in
                    "\(error)".contains("a transaction-pooling proxy (PgBouncer) sits in between")
                }
                await tokenLock.shutdown()
            }
        }

        @Test func sslmodeRequireRefusesAServerWithoutTLS() async throws {
            try await PostgresServer.with { server in
                let url = server.url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
                let tokenLock = PostgresTokenLock(
                    database: try LockDatabase(url: url, passwordFile: nil, environment: [:]), logger: logger)
                await #expect {
                    try await tokenLock.tryAcquire(LockID(botID: "81"), owner: .currentProcess(bot: "a"))
                } throws: { error in
                    "\(error)" == "lock database 127.0.0.1:\(server.port)/postgres: cannot connect: "
                        + "the server offers no TLS, which the URL's sslmode requires"
                }
                await tokenLock.shutdown()
            }
        }
    }
}
