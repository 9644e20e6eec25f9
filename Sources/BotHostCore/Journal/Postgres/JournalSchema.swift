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
/// - `bothost_state_values` (version 2): every bot's conversation state (see
///   ``PostgresStateStorage``).
/// - version 3: `bothost_journal_entries.tried_at`, when each entry's last try began
///   (seconds since 1970).
enum JournalSchema {
    /// The schema this code reads and writes.
    static var version: Int { migrations.count }

    /// The advisory lock that makes hosts starting together create the tables one after
    /// the other. A two-key lock: `pg_locks` shows it with `objsubid` 2, so it is never
    /// taken for a bot's lock (one key, `objsubid` 1; see ``AdvisoryLockHolders``).
    private static let migrationLock: (Int32, Int32) = (0x626F_7468, 1)  // "both", 1

    /// What brings the tables from each version to the next: `migrations[0]` creates
    /// version 1 in a database that has none, `migrations[1]` adds the bots' state,
    /// `migrations[2]` when each entry's last try began.
    /// Appended to, never changed: databases of every earlier version are out there.
    private static let migrations: [[PostgresQuery]] = [
        [
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
        ],
        [
            """
            CREATE TABLE bothost_state_values (
                bot text NOT NULL REFERENCES bothost_journal_bots (bot),
                scope text NOT NULL,
                name text NOT NULL,
                value text NOT NULL,
                expires_at timestamptz,
                PRIMARY KEY (bot, scope, name)
            )
            """,
            "CREATE INDEX bothost_state_values_expiry ON bothost_state_values (bot, expires_at) WHERE expires_at IS NOT NULL",
        ],
        ["ALTER TABLE bothost_journal_entries ADD COLUMN tried_at double precision"],
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
            let current = found ?? 0
            if current > version {
                throw JournalError.unreadable(
                    place: place, "written by a newer bothost (journal schema \(current); this one reads \(version))")
            }
            guard current < version else { return }
            for statement in migrations[current...].joined() { try await connection.query(statement, logger: logger) }
            try await connection.query("DELETE FROM bothost_journal_schema", logger: logger)
            try await connection.query("INSERT INTO bothost_journal_schema (version) VALUES (\(version))", logger: logger)
        }
    }
}
