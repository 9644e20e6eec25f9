import Foundation
import Logging
import PostgresNIO

/// Who holds which advisory lock in the lock database, as `pg_locks` shows it: read-only,
/// so `bothost status` and standbys can look without disturbing a lock.
///
/// A host names its session `bothost/<pid>@<hostname>` (`application_name`), which is how
/// a lock's holder is told to people; the lock itself is the server's truth.
struct AdvisoryLockHolders: Sendable {
    /// A session holding an advisory lock, as it named itself.
    struct Holder: Sendable, Hashable {
        /// The host process, when the session is a BotHost's.
        var pid: Int32?
        var hostname: String?
        /// When the session began: PostgreSQL keeps no time for a granted advisory lock.
        var sessionStart: Date?

        /// The holder as a `LockOwner` of `bot`, when it is a BotHost.
        func owner(bot: String) -> LockOwner? {
            guard let pid, let hostname else { return nil }
            return LockOwner(pid: pid, bot: bot, hostname: hostname, startedAt: sessionStart ?? Date())
        }
    }

    /// By advisory lock key.
    var byKey: [Int64: Holder]

    /// PostgreSQL cuts `application_name` at 63 bytes.
    static let applicationNameLimit = 63

    /// The `application_name` of this process's lock session.
    static func applicationName(pid: Int32, hostname: String) -> String {
        var name = "bothost/\(pid)@\(hostname)"
        while name.utf8.count > applicationNameLimit { name.removeLast() }
        return name
    }

    /// The holder an `application_name` describes; only the session when it is not a BotHost's.
    static func holder(applicationName: String?, sessionStart: Date?) -> Holder {
        guard let name = applicationName, name.hasPrefix("bothost/"), let at = name.firstIndex(of: "@"),
            let pid = Int32(name[name.index(name.startIndex, offsetBy: "bothost/".count)..<at])
        else {
            return Holder(pid: nil, hostname: nil, sessionStart: sessionStart)
        }
        return Holder(pid: pid, hostname: String(name[name.index(after: at)...]), sessionStart: sessionStart)
    }

    /// Reads every granted one-key advisory lock of the connected database. A one-key
    /// (`bigint`) lock shows its high 32 bits as `classid` and its low ones as `objid`, with
    /// `objsubid` 1; advisory locks are per database, hence the filter.
    static func read(on connection: PostgresConnection, logger: Logger) async throws -> AdvisoryLockHolders {
        let rows = try await connection.query(
            """
            SELECT (l.classid::int8 << 32) | l.objid::int8, a.application_name, a.backend_start
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, logger: logger)
        var byKey: [Int64: Holder] = [:]
        for try await (key, name, start) in rows.decode((Int64, String?, Date?).self) {
            byKey[key] = holder(applicationName: name, sessionStart: start)
        }
        return AdvisoryLockHolders(byKey: byKey)
    }
}
