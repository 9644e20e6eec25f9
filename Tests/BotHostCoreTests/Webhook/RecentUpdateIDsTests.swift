import Testing

@testable import BotHostCore

@Suite struct RecentUpdateIDsTests {
    @Test func aCommittedIDIsADuplicateAndAReleasedOneIsNew() {
        var recent = RecentUpdateIDs()

        #expect(recent.claim(7) == .new)
        #expect(recent.claim(7) == .writing)
        recent.release(7)
        #expect(recent.claim(7) == .new)
        recent.commit(7)
        #expect(recent.claim(7) == .committed)
    }

    @Test func theJournalSeedsItAndTheOldestLeaveFirst() {
        var recent = RecentUpdateIDs(seed: Array(1...Int64(RecentUpdateIDs.capacity)))

        #expect(recent.claim(1) == .committed)
        #expect(recent.claim(5_000) == .new)
        recent.commit(5_000)

        #expect(recent.claim(1) == .new)
        #expect(recent.claim(2) == .committed)
    }
}
