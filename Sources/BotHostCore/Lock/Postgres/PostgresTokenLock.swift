package import Logging
import PostgresNIO

/// `TokenLock` for hosts on many machines: a PostgreSQL session advisory lock per bot,
/// `pg_try_advisory_lock(key)` with the key from ``LockID/advisoryLockKey``.
///
/// Why session advisory locks: the server frees them when the session ends, so a crashed
/// host never leaves a stale lock, and they need no table, no schema and no cleanup.
/// All of a host's locks live on one dedicated connection (``LockSession``); when it is
/// lost, every bot of the host stops polling before another host can start, and takes its
/// lock again once the database is back.
package struct PostgresTokenLock: TokenLock {
    private let session: LockSession

    package init(database: LockDatabase, timing: LockSessionTiming = LockSessionTiming(), logger: Logger) {
        self.session = LockSession(database: database, timing: timing, logger: logger)
    }

    package func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt {
        try await session.tryAcquire(id, owner: owner)
    }

    /// Reads the server's advisory locks (`pg_locks`), which takes none.
    package func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting {
        try await session.look(at: id, bot: bot)
    }

    package func shutdown() async {
        await session.close()
    }

    /// The lock of every bot in `bots` (name, lock id), as the server shows it now, in
    /// lock-id order. Reads `pg_locks` on a connection of its own: it takes no lock.
    package static func statuses(
        of bots: [(name: String, id: LockID)], database: LockDatabase, logger: Logger
    ) async throws(TokenLockError) -> [LockStatus] {
        let holders: AdvisoryLockHolders
        do {
            let connection = try await PostgresConnection.connect(configuration: database.configuration, id: 0, logger: logger)
            do {
                holders = try await AdvisoryLockHolders.read(on: connection, logger: logger)
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw .database(endpoint: database.endpoint, problem: LockSession.describe(error))
        }
        return bots.sorted { $0.id < $1.id }.map { bot in
            guard let holder = holders.byKey[bot.id.advisoryLockKey] else {
                return LockStatus(id: bot.id, bot: bot.name, state: .free, pid: nil, since: nil, hostname: nil)
            }
            return LockStatus(id: bot.id, bot: bot.name, state: .held, pid: holder.pid, since: nil, hostname: holder.hostname)
        }
    }
}
