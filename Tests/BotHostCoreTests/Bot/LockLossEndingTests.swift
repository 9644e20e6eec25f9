import Testing

@testable import BotHostCore

/// How a bot's run ends when its lock was lost meanwhile: the loss decides, unless the
/// operator asked for a stop.
@Suite struct LockLossEndingTests {
    let outage = LockLossReason.sessionEnded("connection reset by peer")
    let failure = BotRuntime.Outcome.failed(.gaveUp(retries: 3, "the journal's database is gone"))

    @Test func aFailureBesideALossIsTheLosssConsequence() {
        let loss = LockLossNote()
        #expect(loss.note(outage))
        #expect(BotRuntime.Ending(failure, loss: loss, stopRequested: false) == .lockLost(outage))
    }

    @Test func aStopAfterALossIsTheLoss() {
        let loss = LockLossNote()
        #expect(loss.note(outage))
        #expect(BotRuntime.Ending(.stopped, loss: loss, stopRequested: false) == .lockLost(outage))
    }

    @Test func aStopAskedForIsAStop() {
        let loss = LockLossNote()
        #expect(loss.note(outage))
        #expect(BotRuntime.Ending(.stopped, loss: loss, stopRequested: true) == .outcome(.stopped))
    }

    @Test func withoutALossTheOutcomeStandsAndALaterLossCountsNoMore() {
        let loss = LockLossNote()
        #expect(BotRuntime.Ending(failure, loss: loss, stopRequested: false) == .outcome(failure))
        #expect(!loss.note(outage), "the watch has ended")
    }
}
