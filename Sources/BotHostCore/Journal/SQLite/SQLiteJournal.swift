package import Foundation
import GRDB
import Glibc
import Synchronization
package import TelegramBotAPI

/// A bot's journal in an SQLite file of its own in `state_dir`, the file lock backend's
/// journal (through GRDB).
///
/// WAL mode with `synchronous=NORMAL`: a commit is in the operating system's page cache
/// when it returns, so it survives the process (a crash, SIGKILL) but not a power cut,
/// and costs no fsync. One file per bot, so a damaged file stops only its own bot. The
/// file and its `-wal` and `-shm` companions are created with mode 0600. The connection is
/// open only while the bot uses its journal (``JournalConnection``).
package final class SQLiteJournal: UpdateJournal, DeadLetterStore {
    package let path: String
    private let connection: JournalConnection
    private let marks: JournalMarks
    package let state: any JournalStateStorage
    /// The file stamp when replays were last looked for, and the statistics last read with
    /// theirs: a journal nobody wrote to since has nothing new to tell.
    private let lastLooks = Mutex<(replays: JournalFileStamp?, statistics: (JournalFileStamp, JournalStatistics)?)>(
        (nil, nil))

    /// Opens (creating if needed) the journal file at `path`. Throws ``JournalError``.
    package init(path: String) throws(JournalError) {
        self.path = path
        let fd = Foundation.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unreadable(place: path, String(cString: strerror(errno))) }
        Glibc.close(fd)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.label = "journal"
        // A journal is written at its end and read near it: a small page cache (256 KiB
        // rather than SQLite's 2 MiB) keeps a thousand bots' journals light.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -256")
        }
        do {
            connection = try JournalConnection(path: path, configuration: configuration, prepare: Self.migrate)
        } catch {
            throw .unreadable(place: path, Self.describe(error))
        }
        let connection = connection
        state = SQLiteStateStorage(connection: connection, place: path)
        marks = JournalMarks(place: path) { [path] batch throws(JournalError) in
            try await Self.writing(place: path) {
                try await connection.write { db in
                    let begin = try db.cachedStatement(
                        sql: "UPDATE entries SET attempts = attempts + 1, tried_at = ? WHERE sequence = ?")
                    for attempt in batch.attempts { try begin.execute(arguments: [attempt.at, attempt.sequence]) }
                    let undo = try db.cachedStatement(
                        sql: """
                            UPDATE entries SET attempts = max(attempts - 1, 0), tried_at = NULL
                            WHERE sequence = ? AND state = 0
                            """)
                    for sequence in batch.undone { try undo.execute(arguments: [sequence]) }
                    let finish = try db.cachedStatement(
                        sql: "UPDATE entries SET state = 1, ended_at = ? WHERE sequence = ? AND state = 0")
                    let now = Date().timeIntervalSince1970
                    for sequence in batch.finished { try finish.execute(arguments: [now, sequence]) }
                }
            }
        }
    }

    /// What brings a journal file from each schema version to the next: `migrations[0]`
    /// makes an empty file a version 1 journal, `migrations[1]` adds the bot's state,
    /// `migrations[2]` when each entry's last try began.
    /// Appended to, never changed: files of every earlier version are out there.
    static let migrations = [
        // Entry states: 0 unfinished, 1 finished, 2 dead letter, 3 replay asked for.
        """
        CREATE TABLE entries (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            update_id INTEGER NOT NULL,
            chat_id INTEGER,
            state INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            payload BLOB NOT NULL,
            fetched_at REAL NOT NULL,
            ended_at REAL,
            reason TEXT
        );
        CREATE INDEX entries_open ON entries(state) WHERE state <> 1;
        CREATE INDEX entries_finished ON entries(ended_at) WHERE state = 1;
        CREATE TABLE cursor (id INTEGER PRIMARY KEY CHECK (id = 1), next_offset INTEGER);
        """,
        // See ``SQLiteStateStorage``.
        """
        CREATE TABLE state_values (
            scope TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            expires_at REAL,
            PRIMARY KEY (scope, name)
        );
        CREATE INDEX state_values_expiry ON state_values(expires_at) WHERE expires_at IS NOT NULL;
        """,
        "ALTER TABLE entries ADD COLUMN tried_at REAL;",
    ]

    /// The schema this code reads and writes (`PRAGMA user_version`).
    static var schemaVersion: Int { migrations.count }

    private static func migrate(_ db: Database) throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if version > schemaVersion {
            throw NewerSchema(version: version)
        }
        guard version < schemaVersion else { return }
        for migration in migrations[version...] { try db.execute(sql: migration) }
        try db.execute(sql: "PRAGMA user_version = \(schemaVersion)")
    }

    private struct NewerSchema: Error, CustomStringConvertible {
        var version: Int
        var description: String { "written by a newer bothost (schema \(version))" }
    }

    // MARK: - UpdateJournal

    package func open() async throws(JournalError) -> JournalRecovery {
        try await Self.reading(place: path) {
            try await connection.read { db in
                let offset = try Int64.fetchOne(db, sql: "SELECT next_offset FROM cursor WHERE id = 1")
                let rows = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT sequence, update_id, chat_id, attempts, tried_at FROM entries WHERE state = 0 ORDER BY sequence")
                return JournalRecovery(
                    nextOffset: offset,
                    unfinished: rows.map {
                        JournalEntry(
                            sequence: $0[0], updateID: $0[1], chatID: $0[2], attempts: $0[3], triedAt: $0[4], update: nil)
                    })
            }
        }
    }

    package func append(_ updates: [Update], nextOffset: Int64) async throws(JournalError) -> [JournalEntry] {
        let payloads = updates.map { Data($0.raw.jsonText) }
        let sequences = try await Self.writing(place: path) { [connection] in
            try await connection.write { db in
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO entries (update_id, chat_id, payload, fetched_at) VALUES (?, ?, ?, ?)")
                let now = Date().timeIntervalSince1970
                var sequences: [Int64] = []
                for (update, payload) in zip(updates, payloads) {
                    try insert.execute(arguments: [update.updateID, update.chatID, payload, now])
                    sequences.append(db.lastInsertedRowID)
                }
                try db.cachedStatement(
                    sql:
                        "INSERT INTO cursor (id, next_offset) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET next_offset = excluded.next_offset"
                ).execute(arguments: [nextOffset])
                return sequences
            }
        }
        return zip(sequences, updates).map {
            JournalEntry(sequence: $0, updateID: $1.updateID, chatID: $1.chatID, attempts: 0, update: $1)
        }
    }

    package func latestUpdateIDs(count: Int) async throws(JournalError) -> [Int64] {
        try await Self.reading(place: path) {
            try await connection.read { db in
                try Int64.fetchAll(
                    db, sql: "SELECT update_id FROM entries ORDER BY sequence DESC LIMIT ?", arguments: [count]
                ).reversed()
            }
        }
    }

    package func load(_ sequence: Int64) async throws(JournalError) -> Update {
        let payload = try await Self.reading(place: path) {
            try await connection.read { db in
                try Data.fetchOne(db, sql: "SELECT payload FROM entries WHERE sequence = ?", arguments: [sequence])
            }
        }
        guard let payload else { throw .unknownEntry(sequence) }
        do {
            return try Update(jsonText: payload)
        } catch {
            throw .unreadable(place: path, "entry \(sequence): \(error)")
        }
    }

    package func beginAttempt(_ sequence: Int64) async throws(JournalError) {
        try await marks.beginAttempt(sequence)
    }

    package func finish(_ sequence: Int64) {
        marks.finish(sequence)
    }

    package func undoAttempt(_ sequence: Int64) {
        marks.undoAttempt(sequence)
    }

    package func flush() async throws(JournalError) {
        try await marks.flush()
    }

    package func setAside(_ sequence: Int64, reason: String) async throws(JournalError) {
        try await Self.writing(place: path) { [connection] in
            try await connection.write { db in
                try db.execute(
                    sql: "UPDATE entries SET state = 2, ended_at = ?, reason = ? WHERE sequence = ?",
                    arguments: [Date().timeIntervalSince1970, reason, sequence])
            }
        }
    }

    package func takeReplays() async throws(JournalError) -> [JournalEntry] {
        // Asked every few seconds, and nearly always answered "none": look at the files,
        // then read, before writing.
        let stamp = JournalFileStamp(path: path)
        guard lastLooks.withLock({ $0.replays }) != stamp else { return [] }
        let asked = try await Self.reading(place: path) {
            try await connection.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM entries WHERE state = 3)")
            }
        }
        guard asked == true else {
            lastLooks.withLock { $0.replays = stamp }
            return []
        }
        return try await Self.writing(place: path) { [connection] in
            try await connection.write { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE entries SET state = 0, attempts = 0, tried_at = NULL, ended_at = NULL, reason = NULL
                        WHERE state = 3
                        RETURNING sequence, update_id, chat_id
                        """
                ).map { JournalEntry(sequence: $0[0], updateID: $0[1], chatID: $0[2], attempts: 0, update: nil) }
                    .sorted { $0.sequence < $1.sequence }
            }
        }
    }

    package func prune(finishedBefore date: Date) async throws(JournalError) -> Int {
        try await Self.writing(place: path) { [connection] in
            try await connection.write { db in
                try db.execute(
                    sql: "DELETE FROM entries WHERE state = 1 AND ended_at < ?", arguments: [date.timeIntervalSince1970])
                return db.changesCount
            }
        }
    }

    package func statistics() async throws(JournalError) -> JournalStatistics {
        let stamp = JournalFileStamp(path: path)
        if let (seen, statistics) = lastLooks.withLock({ $0.statistics }), seen == stamp { return statistics }
        let statistics = try await Self.reading(place: path) {
            try await connection.read { db in
                var counts: [Int: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM entries GROUP BY state") {
                    counts[row[0]] = row[1]
                }
                return JournalStatistics(
                    unfinished: counts[0, default: 0] + counts[3, default: 0], deadLetters: counts[2, default: 0],
                    finished: counts[1, default: 0])
            }
        }
        lastLooks.withLock { $0.statistics = (stamp, statistics) }
        return statistics
    }

    /// Closes the connection when nothing used it since the last call
    /// (``JournalConnection/closeIfIdle()``); the freed memory goes back to the kernel with
    /// the next ``ResidentSetTrimmer`` trim.
    ///
    /// The close checkpoints the `-wal` into the file, which changes the file's stamp but
    /// not what it holds: looks made at the stamp before the close count as made at the
    /// one after, so that the next pass does not open the connection again to find nothing
    /// new. A write by another process (`bothost dead-letters`) in the microseconds
    /// between the two stamps would go unnoticed until the bot next writes.
    package func releaseIfIdle() async {
        // An idle bot's connection is closed already: no stamps to take (two `stat`s each),
        // at every housekeeping pass of every bot.
        guard connection.isOpen else { return }
        let before = JournalFileStamp(path: path)
        guard await connection.closeIfIdle() else { return }
        let after = JournalFileStamp(path: path)
        lastLooks.withLock { looks in
            if looks.replays == before { looks.replays = after }
            if let (seen, statistics) = looks.statistics, seen == before { looks.statistics = (after, statistics) }
        }
        ResidentSetTrimmer.shared.trimSoon(.heap)
    }

    package func close() async {
        try? await marks.flush()
        await connection.close()
    }

    // MARK: - DeadLetterStore

    package func deadLetters() async throws(JournalError) -> [DeadLetter] {
        try await Self.reading(place: path) {
            try await connection.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT sequence, update_id, chat_id, reason, attempts, ended_at FROM entries
                        WHERE state = 2 ORDER BY sequence
                        """
                ).map {
                    DeadLetter(
                        sequence: $0[0], updateID: $0[1], chatID: $0[2], reason: $0[3] ?? "", attempts: $0[4],
                        setAsideAt: Date(timeIntervalSince1970: $0[5] ?? 0))
                }
            }
        }
    }

    package func replay(_ sequences: [Int64]) async throws(JournalError) {
        try await changeDeadLetters(sequences, sql: "UPDATE entries SET state = 3 WHERE sequence = ?")
    }

    package func discard(_ sequences: [Int64]) async throws(JournalError) {
        try await changeDeadLetters(sequences, sql: "DELETE FROM entries WHERE sequence = ?")
    }

    /// Runs `sql` for each sequence in one transaction, once all are dead letters.
    private func changeDeadLetters(_ sequences: [Int64], sql: String) async throws(JournalError) {
        try await Self.writing(place: path) { [connection] in
            try await connection.write { db in
                for sequence in sequences {
                    let state = try Int.fetchOne(db, sql: "SELECT state FROM entries WHERE sequence = ?", arguments: [sequence])
                    guard state == 2 else { throw JournalError.unknownEntry(sequence) }
                }
                for sequence in sequences { try db.execute(sql: sql, arguments: [sequence]) }
            }
        }
    }

    // MARK: - Errors

    /// Runs `operation`, which only reads the journal at `place`; a failure is
    /// ``JournalError/unreadable(place:_:)`` unless it already is a ``JournalError``.
    static func reading<T>(place: String, _ operation: () async throws -> T) async throws(JournalError) -> T {
        do {
            return try await operation()
        } catch let error as JournalError {
            throw error
        } catch {
            throw .unreadable(place: place, describe(error))
        }
    }

    /// Runs `operation`, which writes the journal at `place`; a failure is
    /// ``JournalError/writeFailed(place:_:)`` unless it already is a ``JournalError``.
    static func writing<T>(place: String, _ operation: () async throws -> T) async throws(JournalError) -> T {
        do {
            return try await operation()
        } catch let error as JournalError {
            throw error
        } catch {
            throw .writeFailed(place: place, describe(error))
        }
    }

    /// SQLite's own words for a failure, without the SQL that failed.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_FULL: return "the disk is full"
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return "not a journal file, or damaged"
        default: return error.message ?? "\(error.resultCode)"
        }
    }
}
