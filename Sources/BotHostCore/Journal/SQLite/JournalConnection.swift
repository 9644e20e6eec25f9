import GRDB
import Synchronization

/// The SQLite connection of one journal file, open only while the bot uses its journal.
///
/// An open connection costs an idle bot about 60 KiB (SQLite's own memory and the 32 KiB
/// `-shm` mapping) and three file descriptors (the file, its `-wal` and `-shm`): a
/// thousand idle bots' connections would take about 60 MiB and 3,000 descriptors for
/// nothing. So the bot's housekeeping closes a connection that nothing used since its last
/// pass (``closeIfIdle()``), and the next use opens it again, which takes well under a
/// millisecond for a journal whose `-wal` was checkpointed at the close.
final class JournalConnection: Sendable {
    let path: String
    /// How the connection opens again after an idle close: the file is in WAL mode for
    /// good since the first open, so GRDB is not asked to set WAL up again, which writes to
    /// the `-wal` (so that it is not empty) and so looks like a write to the journal.
    private let reopening: Configuration
    private let state = Mutex(State())

    private struct State {
        var database: DatabaseQueue?
        /// Calls under way.
        var users = 0
        /// Whether a call began since the last ``closeIfIdle()``.
        var used = false
        /// Closed for good (``close()``): every later call throws.
        var closed = false
    }

    /// A connection to `path` with `configuration`, opened at once and `prepare`d in a
    /// write transaction (a schema migration), so that an unreadable file is found now.
    /// Throws GRDB's `DatabaseError`, or what `prepare` throws.
    init(path: String, configuration: Configuration, prepare: (Database) throws -> Void) throws {
        self.path = path
        var reopening = configuration
        reopening.journalMode = .default
        self.reopening = reopening
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write(prepare)
        state.withLock { $0.database = database }
    }

    /// Runs `body` in a read-only transaction (GRDB's `read`). Throws what `body` throws,
    /// GRDB's `DatabaseError` when the file cannot be opened, or ``Closed`` once the
    /// journal has closed; so do the two below.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await use { try await $0.read(body) }
    }

    /// Runs `body` in a write transaction (GRDB's `write`).
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await use { try await $0.write(body) }
    }

    /// Runs `body` outside a transaction (GRDB's `writeWithoutTransaction`).
    func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await use { try await $0.writeWithoutTransaction(body) }
    }

    /// Runs `body` with the connection, opening it first if it was closed while idle.
    private func use<T>(_ body: (DatabaseQueue) async throws -> T) async throws -> T {
        let database = try state.withLock { state throws -> DatabaseQueue in
            guard !state.closed else { throw Closed() }
            // Opened under the lock, so that two calls never open two connections; it
            // takes a few hundred microseconds, once after each idle close.
            let database = try state.database ?? DatabaseQueue(path: path, configuration: reopening)
            state.database = database
            state.users += 1
            state.used = true
            return database
        }
        defer { state.withLock { $0.users -= 1 } }
        return try await body(database)
    }

    /// Whether the connection is open now: closed while idle, it opens again at the next
    /// call; closed for good (``close()``), it stays closed.
    var isOpen: Bool {
        state.withLock { $0.database != nil }
    }

    /// Closes the connection if no call began since the last time this was asked and none
    /// is under way; returns whether it closed. SQLite checkpoints the `-wal` into the file
    /// as the connection closes.
    @discardableResult
    func closeIfIdle() -> Bool {
        let idle = state.withLock { state -> DatabaseQueue? in
            defer { state.used = false }
            guard !state.used, state.users == 0 else { return nil }
            defer { state.database = nil }
            return state.database
        }
        guard let idle else { return false }
        try? idle.close()
        return true
    }

    /// Closes the connection for good: every later ``use(_:)`` throws ``Closed``. A call
    /// under way keeps its connection until it returns.
    func close() {
        let database = state.withLock { state in
            state.closed = true
            defer { state.database = nil }
            return state.users == 0 ? state.database : nil
        }
        try? database?.close()
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the journal is closed" }
    }
}
