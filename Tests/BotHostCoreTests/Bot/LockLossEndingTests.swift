import Testing

@testable import BotHostCore

/// How a bot's run ends when its lock was lost meanwhile: the loss decides, unless the
/// run failed for a reason of its own.
@Suite struct LockLossEndingTests {
    let outage = LockLossReason.sessionEnded("connection reset by peer")

    @Test func aStopAfterALossIsTheLoss() {
        #expect(BotRuntime.Ending(.stopped, loss: outage) == .lockLost(outage))
    }

    @Test func aFailureThatTheLossCanCauseIsTheLoss() {
        let causes: [BotFailure] = [
            .gaveUp(retries: 3, "Conflict: terminated by other getUpdates request"),
            .journalUnusable(.unreadable(place: "journal of bot0", "the database is gone")),
            .failedInWorker(summary: "gave up retrying", "Conflict: terminated by other getUpdates request"),
        ]
        for failure in causes {
            #expect(BotRuntime.Ending(.failed(failure), loss: outage) == .lockLost(outage), "\(failure)")
        }
    }

    @Test func aFailureOfItsOwnStands() {
        let own: [BotFailure] = [
            .crashLoop(crashes: 6, period: .seconds(60)), .webhookInTheWay,
            .failedInWorker(summary: "token rejected", "the token was rejected"),
            .failedInWorker(summary: "plugin did not start", "init threw"),
        ]
        for failure in own {
            #expect(BotRuntime.Ending(.failed(failure), loss: outage) == .outcome(.failed(failure)), "\(failure)")
        }
    }

    @Test func withoutALossTheOutcomeStands() {
        let failure = BotRuntime.Outcome.failed(.gaveUp(retries: 3, "timed out"))
        #expect(BotRuntime.Ending(failure, loss: nil) == .outcome(failure))
        #expect(BotRuntime.Ending(.stopped, loss: nil) == .outcome(.stopped))
    }
}
