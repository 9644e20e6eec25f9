import BotHostKit
import Foundation
import GRDB

/// A bot's state in its journal file, on the journal's own connection
/// (``JournalConnection``: a state write and a journal write take turns, never wait for
/// each other's file locks). Each call is one SQL statement, atomic on its own, so it
/// runs outside a transaction.
///
/// The table `state_values`: `scope` (``StateKey/scopePath``), `name`, `value` (JSON text),
/// `expires_at` (seconds since 1970, `NULL` for none), keyed by scope and name, with an
/// index of the values that expire. A file holds one bot, so the bot is not a column.
struct SQLiteStateStorage: JournalStateStorage {
    let connection: JournalConnection
    /// The journal file, for errors.
    let place: String

    func read(_ key: StateKey, at now: Date) async throws(JournalError) -> String? {
        try await SQLiteJournal.reading(place: place) {
            try await connection.writeWithoutTransaction { db in
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT value FROM state_values
                        WHERE scope = ? AND name = ? AND (expires_at IS NULL OR expires_at > ?)
                        """,
                    arguments: [key.scopePath, key.name, now.timeIntervalSince1970])
            }
        }
    }

    func write(_ json: String, for key: StateKey, expiringAt expiry: Date?) async throws(JournalError) {
        try await SQLiteJournal.writing(place: place) {
            try await connection.writeWithoutTransaction { db in
                try db.execute(
                    sql: """
                        INSERT INTO state_values (scope, name, value, expires_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                        """,
                    arguments: [key.scopePath, key.name, json, expiry?.timeIntervalSince1970])
            }
        }
    }

    func remove(_ key: StateKey) async throws(JournalError) {
        try await SQLiteJournal.writing(place: place) {
            try await connection.writeWithoutTransaction { db in
                try db.execute(
                    sql: "DELETE FROM state_values WHERE scope = ? AND name = ?", arguments: [key.scopePath, key.name])
            }
        }
    }

    func purgeExpired(before now: Date, limit: Int) async throws(JournalError) -> Int {
        try await SQLiteJournal.writing(place: place) {
            try await connection.writeWithoutTransaction { db in
                try db.execute(
                    sql: """
                        DELETE FROM state_values WHERE rowid IN (
                            SELECT rowid FROM state_values WHERE expires_at <= ? LIMIT ?
                        )
                        """,
                    arguments: [now.timeIntervalSince1970, limit])
                return db.changesCount
            }
        }
    }
}
