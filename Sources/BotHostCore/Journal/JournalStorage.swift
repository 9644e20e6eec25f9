/// Where a host keeps its bots' journals: a backend's factory of ``UpdateJournal`` and
/// ``DeadLetterStore``.
package protocol JournalStorage: Sendable {
    /// The journal of the bot whose lock this host holds, for the lock's holder only.
    /// Throws ``JournalError``.
    func journal(for lock: any HeldTokenLock) async throws(JournalError) -> any UpdateJournal

    /// The dead letters of a bot, whether or not a host runs it; `nil` when the bot has
    /// no journal yet. Throws ``JournalError``.
    func deadLetters(of bot: LockID) async throws(JournalError) -> (any DeadLetterStore)?

    /// Lets go of what the storage keeps open for all its journals (database connections)
    /// once every journal is closed; the host calls it after its bots have stopped.
    func shutdown() async
}

extension JournalStorage {
    /// Storage whose journals each hold their own resources (a file) has nothing to let go.
    package func shutdown() async {}
}
