/// Which of the updates that were running when a process died is tried again first: the
/// fewest-tried, and of those, the one whose last try began earliest.
///
/// A poison update has been tried at least as often as one that was merely running beside
/// it, and a trap usually follows its update's start within milliseconds, so the update
/// whose try began last before the crash most likely caused it. An entry that the journal
/// has no start time for counts as begun earliest.
struct SuspectOrder: Comparable, Sendable {
    let attempts: Int
    let triedAt: Double

    init(attempts: Int, triedAt: Double?) {
        self.attempts = attempts
        self.triedAt = triedAt ?? 0
    }

    init(_ entry: JournalEntry) {
        self.init(attempts: entry.attempts, triedAt: entry.triedAt)
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.attempts, lhs.triedAt) < (rhs.attempts, rhs.triedAt)
    }
}
