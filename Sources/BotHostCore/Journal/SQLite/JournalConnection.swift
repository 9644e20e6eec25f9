import GRDB
import NIOPosix
import Synchronization

/// The SQLite connection of one journal file, open only while the bot uses its journal.
///
/// An open connection costs an idle bot about 60 KiB (SQLite's own memory and the 32 KiB
/// `-shm` mapping) and three file descriptors (the file, its `-wal` and `-shm`): a
/// thousand idle bots' connections would take about 60 MiB and 3,000 descriptors for
/// nothing. So the bot's housekeeping closes a connection that nothing used since its last
/// pass (``closeIfIdle()``), and the next use opens it again.
///
/// Opening and closing block their thread: SQLite creates the `-wal` and `-shm` files at
/// an open and checkpoints, syncs and deletes them at a close, a millisecond or more each
/// on a busy disk. Both run on NIO's blocking thread pool (all but the first open, which
/// `init` makes as the bot starts, and the last close, as it stops), never on the caller's thread
/// (an event loop: in a burst across thousands of webhook bots, opens and closes on the
/// loops held every connection of the process back), one at a time per connection: a
/// call that comes while its connection closes waits for the close, then opens it again.
final class JournalConnection: Sendable {
    let path: String
    /// How the connection opens again after an idle close: the file is in WAL mode for
    /// good since the first open, so GRDB is not asked to set WAL up again, which writes to
    /// the `-wal` (so that it is not empty) and so looks like a write to the journal.
    private let reopening: Configuration
    private let state = Mutex(State())

    private struct State {
        var database: DatabaseQueue?
        /// The open or close under way on the thread pool; calls wait for it.
        var change: Task<Void, any Error>?
        /// Calls under way.
        var users = 0
        /// Whether a call began since the last ``closeIfIdle()``.
        var used = false
        /// Closed for good (``close()``): every later call throws.
        var closed = false
    }

    /// What a call does next.
    private enum Step {
        case use(DatabaseQueue)
        case wait(for: Task<Void, any Error>)
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
        while true {
            let step = try state.withLock { state throws -> Step in
                guard !state.closed else { throw Closed() }
                if let change = state.change { return .wait(for: change) }
                if let database = state.database {
                    state.users += 1
                    state.used = true
                    return .use(database)
                }
                let opening = change { [path, reopening] in
                    try DatabaseQueue(path: path, configuration: reopening)
                }
                state.change = opening
                return .wait(for: opening)
            }
            switch step {
            case .use(let database):
                defer { state.withLock { $0.users -= 1 } }
                return try await body(database)
            case .wait(let change):
                // An open that failed throws here, to the call that started it and to
                // the calls that waited for it; a close never throws.
                try await change.value
            }
        }
    }

    /// Starts `work` on the thread pool as the connection's change under way; it leaves
    /// the connection with the database `work` returns (`nil` after a close), or closes
    /// that database at once when ``close()`` came meanwhile. Called under the state's lock.
    private func change(_ work: @escaping @Sendable () throws -> DatabaseQueue?) -> Task<Void, any Error> {
        Task {
            let result: Result<DatabaseQueue?, any Error>
            do {
                result = .success(try await NIOThreadPool.singleton.runIfActive(work))
            } catch {
                result = .failure(error)
            }
            let leftOver = state.withLock { state -> DatabaseQueue? in
                state.change = nil
                guard !state.closed else { return try? result.get() }
                state.database = try? result.get()
                return nil
            }
            try? leftOver?.close()
            _ = try result.get()
        }
    }

    /// Whether the connection is open now: closed while idle, it opens again at the next
    /// call; closed for good (``close()``), it stays closed.
    var isOpen: Bool {
        state.withLock { $0.database != nil }
    }

    /// Closes the connection if no call began since the last time this was asked and none
    /// is under way, and returns once it closed; returns whether it closed. SQLite
    /// checkpoints the `-wal` into the file as the connection closes.
    @discardableResult
    func closeIfIdle() async -> Bool {
        let closing = state.withLock { state -> Task<Void, any Error>? in
            defer { state.used = false }
            guard !state.used, state.users == 0, state.change == nil, let database = state.database else { return nil }
            state.database = nil
            let closing = change {
                try? database.close()
                return nil
            }
            state.change = closing
            return closing
        }
        guard let closing else { return false }
        try? await closing.value
        return true
    }

    /// Closes the connection for good, and returns once it closed: every later call
    /// throws ``Closed``. A call under way keeps its connection until it returns (GRDB
    /// closes it as the last reference goes, after this returned); an open under way
    /// closes what it opened.
    func close() async {
        let (database, change) = state.withLock { state in
            state.closed = true
            defer { state.database = nil }
            return (state.users == 0 ? state.database : nil, state.change)
        }
        try? await change?.value
        try? database?.close()
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the journal is closed" }
    }
}
