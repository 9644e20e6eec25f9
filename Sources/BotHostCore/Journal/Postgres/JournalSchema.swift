import Logging
import PostgresNIO

/// The journal tables in the lock database, created on first use and versioned, so that a
/// later BotHost can migrate them and an older one refuses what it cannot read.
///
/// - `bothost_journal_schema`: one row, the schema version.
/// - `bothost_journal_bots`: a row per bot (its ``LockID`` in hex, never the token) with
///   the `epoch` of its current lock holder (see ``JournalFence``) and its `next_offset`.
/// - `bothost_journal_entries`: the updates of every bot, `sequence` an identity column.
///   Entry states: 0 unfinished, 1 finished, 2 dead letter, 3 replay asked for.
enum JournalSchema {
    /// The schema this code reads and writes.
    static let version = 1

    /// The advisory lock that makes hosts starting together create the tables one after
    /// the other. A two-key lock: `pg_locks` shows it with `objsubid` 2, so it is never
    /// taken for a bot's lock (one key, `objsubid` 1; see ``AdvisoryLockHolders``).
    private static let migrationLock: (Int32, Int32) = (0x626F_7468, 1)  // "both", 1

    private static let creation: [PostgresQuery] = [
        """
        CREATE TABLE bothost_journal_bots (
            bot text PRIMARY KEY,
            epoch bigint NOT NULL,
            next_offset bigint
        )
        """,
        """
        CREATE TABLE bothost_journal_entries (
            sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            bot text NOT NULL REFERENCES bothost_journal_bots (bot),
            update_id bigint NOT NULL,
            chat_id bigint,
            state smallint NOT NULL DEFAULT 0,
            attempts integer NOT NULL DEFAULT 0,
            payload bytea NOT NULL,
            fetched_at timestamptz NOT NULL,
            ended_at timestamptz,
            reason text
        )
        """,
        "CREATE INDEX bothost_journal_entries_open ON bothost_journal_entries (bot, state, sequence) WHERE state <> 1",
        "CREATE INDEX bothost_journal_entries_finished ON bothost_journal_entries (bot, ended_at) WHERE state = 1",
        "INSERT INTO bothost_journal_schema (version) VALUES (\(version))",
    ]

    /// Creates the tables if the database has none; throws
    /// ``JournalError/unreadable(place:_:)`` for tables of a newer schema.
    static func prepare(on connection: PostgresConnection, place: String, logger: Logger) async throws {
        try await JournalConnections.transaction(on: connection, logger: logger) {
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(migrationLock.0), \(migrationLock.1))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS bothost_journal_schema (version integer NOT NULL)", logger: logger)
            var found: Int?
            for try await version in try await connection.query(
                "SELECT max(version) FROM bothost_journal_schema", logger: logger
            ).decode(Int?.self) {
                found = version
            }
            switch found {
            case nil:
                for statement in creation { try await connection.query(statement, logger: logger) }
            case let found? where found > version:
                throw JournalError.unreadable(
                    place: place, "written by a newer bothost (journal schema \(found); this one reads \(version))")
            default:
                break
            }
        }
    }
}
