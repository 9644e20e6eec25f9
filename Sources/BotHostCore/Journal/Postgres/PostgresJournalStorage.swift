package import Logging
import PostgresNIO

/// The journals of the postgres lock backend: every bot's journal in the lock database, so
/// that whichever host takes a bot's lock over continues its journal.
///
/// Its connections are its own (``JournalConnections``), apart from the lock session's;
/// the first one creates the tables. ``shutdown()`` closes them.
package struct PostgresJournalStorage: JournalStorage {
    private let connections: JournalConnections

    /// Connects only when a journal is first used: a database that cannot be reached then
    /// fails that bot with a ``JournalError`` within the URL's connect timeout.
    /// - Parameter answerTimeout: the longest one journal operation may wait for the
    ///   server's answers before its connection is given up and the operation fails.
    package init(database: LockDatabase, logger: Logger, answerTimeout: Duration = .seconds(10)) {
        connections = JournalConnections(database: database, logger: logger, answerTimeout: answerTimeout)
    }

    package func journal(for lock: any HeldTokenLock) async throws(JournalError) -> any UpdateJournal {
        PostgresJournal(bot: lock.id, connections: connections)
    }

    package func deadLetters(of bot: LockID) async throws(JournalError) -> (any DeadLetterStore)? {
        let known = try await connections.reading { [logger = connections.logger] connection in
            let rows = try await connection.query(
                "SELECT 1 FROM bothost_journal_bots WHERE bot = \(bot.hex)", logger: logger)
            var known = false
            for try await _ in rows { known = true }
            return known
        }
        return known ? PostgresDeadLetters(bot: bot.hex, connections: connections) : nil
    }

    package func shutdown() async {
        await connections.close()
    }
}
