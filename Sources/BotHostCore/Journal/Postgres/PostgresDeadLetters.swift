import Foundation
import PostgresNIO

/// A bot's dead letters in the lock database, for `bothost dead-letters` and the control
/// API.
///
/// Not fenced: an operator's command is no lock holder, and it may run while a host runs
/// the bot. It only moves dead letters (state 2), which the holder never writes again: a
/// replay asked for (state 3) is taken by the holder's ``UpdateJournal/takeReplays()``.
struct PostgresDeadLetters: DeadLetterStore {
    let bot: String
    let connections: JournalConnections

    func deadLetters() async throws(JournalError) -> [DeadLetter] {
        try await connections.reading { [bot, logger = connections.logger] connection in
            let rows = try await connection.query(
                """
                SELECT sequence, update_id, chat_id, reason, attempts, ended_at FROM bothost_journal_entries
                WHERE bot = \(bot) AND state = 2 ORDER BY sequence
                """, logger: logger)
            var letters: [DeadLetter] = []
            for try await (sequence, updateID, chatID, reason, attempts, endedAt)
                in rows.decode((Int64, Int64, Int64?, String?, Int, Date?).self)
            {
                letters.append(
                    DeadLetter(
                        sequence: sequence, updateID: updateID, chatID: chatID, reason: reason ?? "", attempts: attempts,
                        setAsideAt: endedAt ?? Date(timeIntervalSince1970: 0)))
            }
            return letters
        }
    }

    func replay(_ sequences: [Int64]) async throws(JournalError) {
        try await changeDeadLetters(sequences) { sequences in
            "UPDATE bothost_journal_entries SET state = 3 WHERE bot = \(bot) AND sequence = ANY(\(sequences))"
        }
    }

    func discard(_ sequences: [Int64]) async throws(JournalError) {
        try await changeDeadLetters(sequences) { sequences in
            "DELETE FROM bothost_journal_entries WHERE bot = \(bot) AND sequence = ANY(\(sequences))"
        }
    }

    /// The connections are the storage's, which closes them at shutdown.
    func close() async {}

    /// Runs `change` on `sequences` in one transaction, once all are dead letters; they are
    /// locked meanwhile, so none changes state between the check and the change.
    private func changeDeadLetters(
        _ sequences: [Int64], _ change: @escaping @Sendable ([Int64]) -> PostgresQuery
    ) async throws(JournalError) {
        try await connections.transaction { [bot, logger = connections.logger] connection in
            let rows = try await connection.query(
                """
                SELECT sequence FROM bothost_journal_entries
                WHERE bot = \(bot) AND state = 2 AND sequence = ANY(\(sequences)) FOR UPDATE
                """, logger: logger)
            var found: Set<Int64> = []
            for try await sequence in rows.decode(Int64.self) { found.insert(sequence) }
            if let unknown = sequences.first(where: { !found.contains($0) }) { throw JournalError.unknownEntry(unknown) }
            _ = try await connection.query(change(sequences), logger: logger)
        }
    }
}
