package import Foundation
package import TelegramBotAPI

/// One bot's durable record of its updates, between ingress and the dispatcher.
///
/// A fetched batch is committed here, with the `getUpdates` offset past it, before the
/// offset is sent to Telegram; from then on the journal, not Telegram, owns the batch.
/// Each try of an update is recorded before its handler runs, and an update leaves the
/// journal's unfinished set once finished or set aside as a dead letter. So a crash,
/// SIGKILL or lock handover loses no update and repeats none that finished: the next
/// holder of the bot's lock opens the journal and goes on from ``JournalRecovery``.
///
/// Only the bot's lock holder writes: a backend shared by hosts (PostgreSQL) refuses the
/// writes of a host that lost the lock with ``JournalError/fenced``.
package protocol UpdateJournal: Sendable {
    /// Opens the journal for the lock holder: the offset to poll from and every update
    /// not yet finished (without payloads), oldest first. Throws ``JournalError``.
    func open() async throws(JournalError) -> JournalRecovery

    /// Commits a fetched batch together with the offset past it, in one transaction, and
    /// returns the batch's entries with their payloads. Throws ``JournalError``; nothing of
    /// the batch is kept then, and the offset stays where it was.
    func append(_ updates: [Update], nextOffset: Int64) async throws(JournalError) -> [JournalEntry]

    /// The `update_id`s of the last `count` entries appended, oldest first: a webhook bot
    /// recognises a repeated delivery by them. Throws ``JournalError``.
    func latestUpdateIDs(count: Int) async throws(JournalError) -> [Int64]

    /// The payload of an unfinished entry that memory let go of. Throws ``JournalError``.
    func load(_ sequence: Int64) async throws(JournalError) -> Update

    /// Records that a try of the entry begins; returns once that is durable, so a process
    /// that dies in the handler has the try counted. Throws ``JournalError``.
    func beginAttempt(_ sequence: Int64) async throws(JournalError)

    /// Marks the entry finished. Marks are written in batches; ``flush()`` awaits them.
    func finish(_ sequence: Int64)

    /// Takes back the entry's last recorded try: a stop cut it short, which is no failed
    /// try. Written with the next batch, as ``finish(_:)``.
    func undoAttempt(_ sequence: Int64)

    /// Sets the entry aside as a dead letter with `reason`. Throws ``JournalError``.
    func setAside(_ sequence: Int64, reason: String) async throws(JournalError)

    /// Returns once every mark given so far is durable. Throws ``JournalError``.
    func flush() async throws(JournalError)

    /// Dead letters that `bothost dead-letters --replay` handed back, as unfinished entries
    /// with no tries yet. Throws ``JournalError``.
    func takeReplays() async throws(JournalError) -> [JournalEntry]

    /// Deletes finished entries finished before `date`; dead letters stay until discarded.
    /// Returns how many went. Throws ``JournalError``.
    @discardableResult
    func prune(finishedBefore date: Date) async throws(JournalError) -> Int

    /// Counts for `/metrics` and `/health`. Throws ``JournalError``.
    func statistics() async throws(JournalError) -> JournalStatistics

    /// Lets go of what the journal keeps open only to be quicker (a connection, its page
    /// cache and prepared statements) when nothing used it since the last call; the next
    /// use opens it again. Housekeeping calls it after each pass, so that a bot that went
    /// quiet holds nothing open: a thousand idle bots' SQLite connections would otherwise
    /// take about 60 MiB and 3,000 file descriptors.
    func releaseIfIdle() async

    /// The bot's conversation state, kept beside its updates; usable once ``open()`` has
    /// returned, until ``close()``.
    var state: any JournalStateStorage { get }

    /// Lets go of the storage; later calls fail.
    func close() async
}

extension UpdateJournal {
    /// Storage that keeps nothing open per journal has nothing to let go.
    package func releaseIfIdle() async {}
}

/// One update in a journal.
package struct JournalEntry: Sendable {
    /// The journal's own number for the entry, rising in fetch order. Not the `update_id`:
    /// Telegram restarts those from a random id.
    package var sequence: Int64
    package var updateID: Int64
    /// The chat whose updates run in order with this one; `nil` for updates of no chat.
    package var chatID: Int64?
    /// Tries begun so far.
    package var attempts: Int
    /// When the last try began (seconds since 1970), if the journal knows: of the updates
    /// running when a process died, the one begun last most likely killed it.
    package var triedAt: Double?
    /// The update, when memory holds it; otherwise ``UpdateJournal/load(_:)`` reads it.
    package var update: Update? {
        get { held?.update }
        set { held = newValue.map(HeldUpdate.init) }
    }
    /// Boxed, so that an entry whose update memory let go of takes a few dozen bytes
    /// (an `Update` inline takes about 900).
    private var held: HeldUpdate?

    package init(
        sequence: Int64, updateID: Int64, chatID: Int64?, attempts: Int, triedAt: Double? = nil, update: Update?
    ) {
        self.sequence = sequence
        self.updateID = updateID
        self.chatID = chatID
        self.attempts = attempts
        self.triedAt = triedAt
        self.held = update.map(HeldUpdate.init)
    }

    private final class HeldUpdate: Sendable {
        let update: Update

        init(_ update: Update) {
            self.update = update
        }
    }
}

/// What a lock holder finds when it opens a journal.
package struct JournalRecovery: Sendable {
    /// The `offset` for the next `getUpdates`; `nil` for a journal that never held a batch.
    package var nextOffset: Int64?
    /// Entries neither finished nor set aside, oldest first, without payloads.
    package var unfinished: [JournalEntry]

    package init(nextOffset: Int64?, unfinished: [JournalEntry]) {
        self.nextOffset = nextOffset
        self.unfinished = unfinished
    }
}

/// An update set aside after its tries ran out.
package struct DeadLetter: Sendable, Hashable, Codable {
    package var sequence: Int64
    package var updateID: Int64
    package var chatID: Int64?
    package var reason: String
    /// Tries made.
    package var attempts: Int
    /// When it was set aside.
    package var setAsideAt: Date

    package init(sequence: Int64, updateID: Int64, chatID: Int64?, reason: String, attempts: Int, setAsideAt: Date) {
        self.sequence = sequence
        self.updateID = updateID
        self.chatID = chatID
        self.reason = reason
        self.attempts = attempts
        self.setAsideAt = setAsideAt
    }
}

/// A journal's size, for `/metrics` and `/health`.
package struct JournalStatistics: Sendable, Hashable, Codable {
    /// Entries neither finished nor set aside: the bot's backlog.
    package var unfinished: Int
    package var deadLetters: Int
    /// Finished entries kept until their retention ends.
    package var finished: Int

    package init(unfinished: Int, deadLetters: Int, finished: Int) {
        self.unfinished = unfinished
        self.deadLetters = deadLetters
        self.finished = finished
    }
}

/// Why a journal could not do what was asked. Every message names the journal's place
/// (a file path, or `host:port/database`), never a token.
package enum JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `state_dir` cannot hold journals: not private to this user, or not writable.
    case unusableDirectory(path: String, String)
    /// The storage cannot be opened or read as a journal: a corrupt file, a foreign schema.
    case unreadable(place: String, String)
    /// A write failed (a full disk, a lost connection); the caller may try again later.
    case writeFailed(place: String, String)
    /// Another host holds the bot's lock now; this host's writes are refused.
    case fenced(place: String)
    /// The entry is not in the journal (or not a dead letter, for dead-letter commands).
    case unknownEntry(Int64)

    package var description: String {
        switch self {
        case .unusableDirectory(let path, let problem): "refusing state_dir \(path): \(problem)"
        case .unreadable(let place, let problem): "journal \(place) cannot be read: \(problem)"
        case .writeFailed(let place, let problem): "journal \(place): write failed: \(problem)"
        case .fenced(let place): "journal \(place): another host holds this bot's lock now; writes refused"
        case .unknownEntry(let sequence): "no journal entry \(sequence)"
        }
    }
}
