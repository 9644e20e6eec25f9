import PostgresNIO
import Synchronization

/// What makes the database refuse the journal writes of a host that lost a bot's lock.
///
/// A host may not know at once that it lost its lock (see ``LockSessionTiming``), and a
/// write it started before may still arrive. So each bot's row in `bothost_journal_bots`
/// carries an `epoch`: the new holder's ``claim(_:)`` (in `UpdateJournal.open()`) raises it,
/// and every write runs in a transaction that first locks the row and checks the epoch is
/// still the one it claimed, or throws ``JournalError/fenced(place:)``.
///
/// The row lock orders the two: a claim waits for the writes in flight (they hold the row
/// `FOR SHARE`) and a write that starts later sees the new epoch. So once a new holder's
/// `open()` has returned, no write of an earlier holder lands, and what it read (the
/// unfinished entries, the offset) stays true.
final class JournalFence: Sendable {
    let bot: String
    let connections: JournalConnections
    private let state = Mutex(State())

    private struct State {
        /// The epoch claimed; `nil` before ``claim(_:)``.
        var epoch: Int64?
        var closed = false
    }

    /// - Parameter bot: the bot's ``LockID`` in hex.
    init(bot: String, connections: JournalConnections) {
        self.bot = bot
        self.connections = connections
    }

    /// Raises the bot's epoch and makes it this journal's, then runs `read` in the same
    /// transaction with the bot's next offset. Throws ``JournalError/unreadable(place:_:)``.
    func claim<T: Sendable>(
        _ read: @escaping @Sendable (PostgresConnection, _ nextOffset: Int64?) async throws -> T
    ) async throws(JournalError) -> T {
        let (epoch, value) = try await connections.transaction(failure: JournalError.unreadable(place:_:)) {
            [bot, connections] connection in
            let rows = try await connection.query(
                """
                INSERT INTO bothost_journal_bots (bot, epoch) VALUES (\(bot), 1)
                ON CONFLICT (bot) DO UPDATE SET epoch = bothost_journal_bots.epoch + 1
                RETURNING epoch, next_offset
                """, logger: connections.logger)
            var claimed: (epoch: Int64, nextOffset: Int64?)?
            for try await row in rows.decode((Int64, Int64?).self) { claimed = row }
            guard let claimed else { throw JournalError.unreadable(place: connections.place, "the bot's row went missing") }
            return (claimed.epoch, try await read(connection, claimed.nextOffset))
        }
        state.withLock { $0.epoch = epoch }
        return value
    }

    /// Runs `body` in a transaction that holds the bot's row and finds it still carries the
    /// claimed epoch. Throws ``JournalError/fenced(place:)`` when another holder claimed it
    /// since, ``JournalError/writeFailed(place:_:)`` for other failures.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        let epoch = try claimedEpoch()
        return try await connections.transaction(failure: JournalError.writeFailed(place:_:)) {
            [bot, connections] connection in
            let rows = try await connection.query(
                "SELECT epoch FROM bothost_journal_bots WHERE bot = \(bot) FOR SHARE", logger: connections.logger)
            var current: Int64?
            for try await value in rows.decode(Int64.self) { current = value }
            guard current == epoch else { throw JournalError.fenced(place: connections.place) }
            return try await body(connection)
        }
    }

    /// ``write(_:)`` that also sets the bot's next offset, in the same transaction. The row
    /// is locked for the update at once: two writes that both held it shared and then
    /// wanted to update it would wait for each other.
    func write<T: Sendable>(
        settingNextOffset nextOffset: Int64, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(JournalError) -> T {
        let epoch = try claimedEpoch()
        return try await connections.transaction(failure: JournalError.writeFailed(place:_:)) {
            [bot, connections] connection in
            let rows = try await connection.query(
                """
                UPDATE bothost_journal_bots SET next_offset = \(nextOffset)
                WHERE bot = \(bot) AND epoch = \(epoch) RETURNING epoch
                """, logger: connections.logger)
            var updated = false
            for try await _ in rows { updated = true }
            guard updated else { throw JournalError.fenced(place: connections.place) }
            return try await body(connection)
        }
    }

    /// Refuses every later write.
    func close() {
        state.withLock { $0.closed = true }
    }

    private func claimedEpoch() throws(JournalError) -> Int64 {
        let state = state.withLock { $0 }
        guard !state.closed else { throw .writeFailed(place: connections.place, "the journal is closed") }
        guard let epoch = state.epoch else { throw .writeFailed(place: connections.place, "the journal was not opened") }
        return epoch
    }
}
