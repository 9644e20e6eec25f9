/// Where a host keeps its bots' journals: a backend's factory of ``UpdateJournal`` and
/// ``DeadLetterStore``.
package protocol JournalStorage: Sendable {
    /// The journal of the bot whose lock this host holds, for the lock's holder only.
    /// Throws ``JournalError``.
    func journal(for lock: any HeldTokenLock) async throws(JournalError) -> any UpdateJournal

    /// The dead letters of a bot, whether or not a host runs it; `nil` when the bot has
    /// no journal yet. Throws ``JournalError``.
    func deadLetters(of bot: LockID) async throws(JournalError) -> (any DeadLetterStore)?
}
