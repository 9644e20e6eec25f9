import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TelegramBotAPI

/// A bot's journal in the lock database, the postgres lock backend's journal: a standby
/// host that takes the bot's lock over opens the same rows and handles what the host
/// before fetched and did not finish.
///
/// The same semantics as ``SQLiteJournal``; every write also proves, in its transaction,
/// that this host still holds the bot's lock (``JournalFence``). The rows are keyed by the
/// bot's ``LockID``, never its token. A commit returns once the server has it; how durable
/// that is (`synchronous_commit`, replicas) is the database's to say.
final class PostgresJournal: UpdateJournal {
    private let bot: String
    private let connections: JournalConnections
    private let fence: JournalFence
    private let marks: JournalMarks
    let state: any JournalStateStorage
    private let uncertain = Mutex<UncertainAppend?>(nil)

    /// A batch whose append failed in a way that may have committed all the same (the
    /// answer to `COMMIT` lost with the connection), and the `fetched_at` it was written
    /// with. The pipeline appends the same batch again, which then finds its rows by that
    /// time instead of adding them twice.
    private struct UncertainAppend {
        var updateIDs: [Int64]
        var nextOffset: Int64
        var fetchedAt: Date
    }

    init(bot: LockID, connections: JournalConnections) {
        self.bot = bot.hex
        self.connections = connections
        let fence = JournalFence(bot: bot.hex, connections: connections)
        self.fence = fence
        state = PostgresStateStorage(bot: bot.hex, connections: connections, fence: fence)
        marks = JournalMarks(place: connections.place) {
            [bot = bot.hex, logger = connections.logger] batch throws(JournalError) in
            // An empty batch is a flush with nothing pending: nothing to make durable.
            guard !batch.isEmpty else { return }
            try await fence.write { connection in
                if !batch.attempts.isEmpty {
                    // A sequence given twice is two tries, as in the SQLite journal.
                    let (sequences, times) = (batch.attempts.map(\.sequence), batch.attempts.map(\.at))
                    try await connection.query(
                        """
                        UPDATE bothost_journal_entries AS e SET attempts = e.attempts + t.tries, tried_at = t.at
                        FROM (
                            SELECT s, count(*)::integer AS tries, max(a) AS at
                            FROM unnest(\(sequences)::bigint[], \(times)::float8[]) AS u(s, a) GROUP BY s
                        ) AS t
                        WHERE e.bot = \(bot) AND e.sequence = t.s
                        """, logger: logger)
                }
                if !batch.undone.isEmpty {
                    try await connection.query(
                        """
                        UPDATE bothost_journal_entries SET attempts = greatest(attempts - 1, 0), tried_at = NULL
                        WHERE bot = \(bot) AND sequence = ANY(\(batch.undone)) AND state = 0
                        """, logger: logger)
                }
                if !batch.finished.isEmpty {
                    try await connection.query(
                        """
                        UPDATE bothost_journal_entries SET state = 1, ended_at = \(Date())
                        WHERE bot = \(bot) AND sequence = ANY(\(batch.finished)) AND state = 0
                        """, logger: logger)
                }
            }
        }
    }

    private var logger: Logger { connections.logger }

    func open() async throws(JournalError) -> JournalRecovery {
        try await fence.claim { [bot, logger] connection, nextOffset in
            let rows = try await connection.query(
                """
                SELECT sequence, update_id, chat_id, attempts, tried_at FROM bothost_journal_entries
                WHERE bot = \(bot) AND state = 0 ORDER BY sequence
                """, logger: logger)
            var unfinished: [JournalEntry] = []
            for try await (sequence, updateID, chatID, attempts, triedAt) in rows.decode(
                (Int64, Int64, Int64?, Int, Double?).self)
            {
                unfinished.append(
                    JournalEntry(
                        sequence: sequence, updateID: updateID, chatID: chatID, attempts: attempts, triedAt: triedAt,
                        update: nil))
            }
            return JournalRecovery(nextOffset: nextOffset, unfinished: unfinished)
        }
    }

    func append(_ updates: [Update], nextOffset: Int64) async throws(JournalError) -> [JournalEntry] {
        // Columns as arrays, one statement for the batch. PostgresNIO has no arrays with
        // NULLs, so a chat id comes with whether there is one.
        let updateIDs = updates.map(\.updateID)
        let chatIDs = updates.map { $0.chatID ?? 0 }
        let hasChat = updates.map { $0.chatID != nil }
        let payloads = updates.map { ByteBuffer(bytes: $0.raw.jsonText) }
        let retried = uncertain.withLock { $0 }.flatMap {
            $0.updateIDs == updateIDs && $0.nextOffset == nextOffset ? $0.fetchedAt : nil
        }
        let fetchedAt = retried ?? Date()
        let sequences: [Int64]
        do {
            sequences = try await fence.write(settingNextOffset: nextOffset) { [bot, logger] connection in
                guard !updateIDs.isEmpty else { return [Int64]() }
                if retried != nil {
                    let rows = try await connection.query(
                        """
                        SELECT sequence FROM bothost_journal_entries
                        WHERE bot = \(bot) AND state = 0 AND fetched_at = \(fetchedAt) ORDER BY sequence
                        """, logger: logger)
                    var found: [Int64] = []
                    for try await sequence in rows.decode(Int64.self) { found.append(sequence) }
                    if found.count == updateIDs.count { return found }
                }
                // Identities are drawn in the order of the sorted rows, so they rise in fetch order.
                let rows = try await connection.query(
                    """
                    INSERT INTO bothost_journal_entries (bot, update_id, chat_id, payload, fetched_at)
                    SELECT \(bot), u.update_id, CASE WHEN u.has_chat THEN u.chat_id END, u.payload, \(fetchedAt)
                    FROM unnest(\(updateIDs), \(chatIDs), \(hasChat), \(payloads))
                        WITH ORDINALITY AS u (update_id, chat_id, has_chat, payload, ordinal)
                    ORDER BY u.ordinal
                    RETURNING sequence
                    """, logger: logger)
                var sequences: [Int64] = []
                for try await sequence in rows.decode(Int64.self) { sequences.append(sequence) }
                return sequences.sorted()
            }
            uncertain.withLock { $0 = nil }
        } catch {
            if case .writeFailed = error {
                uncertain.withLock {
                    $0 = UncertainAppend(updateIDs: updateIDs, nextOffset: nextOffset, fetchedAt: fetchedAt)
                }
            }
            throw error
        }
        return zip(sequences, updates).map {
            JournalEntry(sequence: $0, updateID: $1.updateID, chatID: $1.chatID, attempts: 0, update: $1)
        }
    }

    func load(_ sequence: Int64) async throws(JournalError) -> Update {
        let payload = try await connections.reading { [bot, logger] connection in
            let rows = try await connection.query(
                "SELECT payload FROM bothost_journal_entries WHERE bot = \(bot) AND sequence = \(sequence)", logger: logger)
            var payload: ByteBuffer?
            for try await value in rows.decode(ByteBuffer.self) { payload = value }
            return payload
        }
        guard let payload else { throw .unknownEntry(sequence) }
        do {
            return try Update(jsonText: Array(payload.readableBytesView))
        } catch {
            throw .unreadable(place: connections.place, "entry \(sequence): \(error)")
        }
    }

    func beginAttempt(_ sequence: Int64) async throws(JournalError) {
        try await marks.beginAttempt(sequence)
    }

    func finish(_ sequence: Int64) {
        marks.finish(sequence)
    }

    func undoAttempt(_ sequence: Int64) {
        marks.undoAttempt(sequence)
    }

    func flush() async throws(JournalError) {
        try await marks.flush()
    }

    func setAside(_ sequence: Int64, reason: String) async throws(JournalError) {
        try await fence.write { [bot, logger] connection in
            _ = try await connection.query(
                """
                UPDATE bothost_journal_entries SET state = 2, ended_at = \(Date()), reason = \(reason)
                WHERE bot = \(bot) AND sequence = \(sequence)
                """, logger: logger)
        }
    }

    func takeReplays() async throws(JournalError) -> [JournalEntry] {
        // Asked every few seconds and almost always for nothing: one read then, instead of
        // a fenced transaction that locks the bot's row.
        let asked = try await connections.reading { [bot, logger] connection in
            let rows = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM bothost_journal_entries WHERE bot = \(bot) AND state = 3)", logger: logger)
            var asked = false
            for try await value in rows.decode(Bool.self) { asked = value }
            return asked
        }
        guard asked else { return [] }
        return try await fence.write { [bot, logger] connection in
            let rows = try await connection.query(
                """
                UPDATE bothost_journal_entries
                SET state = 0, attempts = 0, tried_at = NULL, ended_at = NULL, reason = NULL
                WHERE bot = \(bot) AND state = 3
                RETURNING sequence, update_id, chat_id
                """, logger: logger)
            var entries: [JournalEntry] = []
            for try await (sequence, updateID, chatID) in rows.decode((Int64, Int64, Int64?).self) {
                entries.append(JournalEntry(sequence: sequence, updateID: updateID, chatID: chatID, attempts: 0, update: nil))
            }
            return entries.sorted { $0.sequence < $1.sequence }
        }
    }

    func prune(finishedBefore date: Date) async throws(JournalError) -> Int {
        try await fence.write { [bot, logger] connection in
            let rows = try await connection.query(
                """
                WITH pruned AS (
                    DELETE FROM bothost_journal_entries WHERE bot = \(bot) AND state = 1 AND ended_at < \(date) RETURNING 1
                )
                SELECT count(*) FROM pruned
                """, logger: logger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }

    func latestUpdateIDs(count: Int) async throws(JournalError) -> [Int64] {
        try await connections.reading { [bot, logger] connection in
            let rows = try await connection.query(
                "SELECT update_id FROM bothost_journal_entries WHERE bot = \(bot) ORDER BY sequence DESC LIMIT \(count)",
                logger: logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            return ids.reversed()
        }
    }

    func statistics() async throws(JournalError) -> JournalStatistics {
        let counts = try await connections.reading { [bot, logger] connection in
            let rows = try await connection.query(
                "SELECT state::integer, count(*) FROM bothost_journal_entries WHERE bot = \(bot) GROUP BY state",
                logger: logger)
            var counts: [Int: Int] = [:]
            for try await (state, count) in rows.decode((Int, Int).self) { counts[state] = count }
            return counts
        }
        return JournalStatistics(
            unfinished: counts[0, default: 0] + counts[3, default: 0], deadLetters: counts[2, default: 0],
            finished: counts[1, default: 0])
    }

    /// Writes what marks are pending, then refuses every later write. The connections stay
    /// open for the host's other bots: the storage closes them at shutdown.
    func close() async {
        try? await marks.flush()
        fence.close()
    }
}
