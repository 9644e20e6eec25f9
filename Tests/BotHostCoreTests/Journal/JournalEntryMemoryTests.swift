import Testing

@testable import BotHostCore

/// README, "The update journal", Memory: "past that an unfinished update costs a few dozen
/// bytes"; UpdateDispatcher: "an entry keeps only its numbers (a few dozen bytes)".
///
/// A ``JournalEntry`` whose `update` is `nil` still takes the inline size of `Update?` in
/// the lane's array, and `Update` holds three `Message?`, a `CallbackQuery?` and the raw
/// JSON inline, so 100,000 queued entries (the backlog limit) take far more than claimed.
@Suite struct JournalEntryMemoryTests {
    @Test func anEntryWithoutItsUpdateCostsAFewDozenBytes() {
        let stride = MemoryLayout<JournalEntry>.stride
        #expect(
            stride <= 64,
            "a queued JournalEntry without its update takes \(stride) bytes; 100,000 of them take \(stride * 100_000 / 1_000_000) MB"
        )
    }
}
