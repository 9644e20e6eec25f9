import BotHostCore
import Logging

/// In the URL of every journal storage the tests open: the server trusts every login, and
/// no error may show it.
let journalPassword = "pw-7c41e9d2"

extension PostgresServer {
    /// A host's journal storage on this server, as the postgres lock backend opens it.
    func journalStorage(answerTimeout: Duration = .seconds(10)) throws -> PostgresJournalStorage {
        let url = "postgres://postgres:\(journalPassword)@127.0.0.1:\(port)/postgres?sslmode=disable"
        return PostgresJournalStorage(
            database: try LockDatabase(url: url, passwordFile: nil, environment: [:]),
            logger: Logger(label: "test.journal") { _ in SwiftLogNoOpLogHandler() }, answerTimeout: answerTimeout)
    }
}

extension PostgresJournalStorage {
    /// The journal of `bot`, as a host holding its lock gets it.
    func journal(of bot: LockID) async throws -> any UpdateJournal {
        try await journal(for: HeldForTest(id: bot))
    }
}

/// A held lock for journals: the storage reads only its id.
private struct HeldForTest: HeldTokenLock {
    let id: LockID

    func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
        .ended
    }

    func release() async {}
}
