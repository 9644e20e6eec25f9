import BotHostKit
import Foundation
import PostgresNIO

/// Every bot's state in the lock database (`bothost_state_values`), on the journals'
/// connections (``JournalConnections``), so that it follows a bot to whichever host takes
/// its lock over.
///
/// Rows are keyed by the bot's ``LockID`` in hex (never its token), ``StateKey/scopePath``
/// and the name; `value` is JSON text, `expires_at` a `timestamptz` (`NULL` for none), with
/// an index of each bot's values that expire. Reads take one query; writes, removals and
/// purges are fenced like the journal's writes (``JournalFence``), so once another host has
/// opened the bot's journal this one's are refused with ``JournalError/fenced(place:)``.
struct PostgresStateStorage: JournalStateStorage {
    let bot: String
    let connections: JournalConnections
    let fence: JournalFence

    func read(_ key: StateKey, at now: Date) async throws(JournalError) -> String? {
        try await connections.reading { [bot, logger = connections.logger] connection in
            let rows = try await connection.query(
                """
                SELECT value FROM bothost_state_values
                WHERE bot = \(bot) AND scope = \(key.scopePath) AND name = \(key.name)
                  AND (expires_at IS NULL OR expires_at > \(now))
                """, logger: logger)
            var value: String?
            for try await found in rows.decode(String.self) { value = found }
            return value
        }
    }

    func write(_ json: String, for key: StateKey, expiringAt expiry: Date?) async throws(JournalError) {
        try await fence.write { [bot, logger = connections.logger] connection in
            _ = try await connection.query(
                """
                INSERT INTO bothost_state_values (bot, scope, name, value, expires_at)
                VALUES (\(bot), \(key.scopePath), \(key.name), \(json), \(expiry))
                ON CONFLICT (bot, scope, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                """, logger: logger)
        }
    }

    func remove(_ key: StateKey) async throws(JournalError) {
        try await fence.write { [bot, logger = connections.logger] connection in
            _ = try await connection.query(
                """
                DELETE FROM bothost_state_values WHERE bot = \(bot) AND scope = \(key.scopePath) AND name = \(key.name)
                """, logger: logger)
        }
    }

    func purgeExpired(before now: Date, limit: Int) async throws(JournalError) -> Int {
        try await fence.write { [bot, logger = connections.logger] connection in
            let rows = try await connection.query(
                """
                WITH purged AS (
                    DELETE FROM bothost_state_values WHERE (bot, scope, name) IN (
                        SELECT bot, scope, name FROM bothost_state_values
                        WHERE bot = \(bot) AND expires_at <= \(now) LIMIT \(limit)
                    ) RETURNING 1
                )
                SELECT count(*) FROM purged
                """, logger: logger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }
}
