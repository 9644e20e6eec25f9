/// The dead letters of one bot's journal, for `bothost dead-letters` and the control API.
///
/// It may be used while a host runs the bot: a replayed dead letter becomes unfinished
/// again and the running host picks it up (``UpdateJournal/takeReplays()``), or the next
/// holder of the bot's lock does.
package protocol DeadLetterStore: Sendable {
    /// Every dead letter, oldest first. Throws ``JournalError``.
    func deadLetters() async throws(JournalError) -> [DeadLetter]

    /// Hands the dead letters back to their bot, with their tries counted afresh. Throws
    /// ``JournalError/unknownEntry(_:)`` for a sequence that is no dead letter, before
    /// changing anything.
    func replay(_ sequences: [Int64]) async throws(JournalError)

    /// Deletes the dead letters. Throws ``JournalError/unknownEntry(_:)`` for a sequence
    /// that is no dead letter, before changing anything.
    func discard(_ sequences: [Int64]) async throws(JournalError)

    /// Lets go of the storage.
    func close() async
}
