import Testing

@testable import BotHostCore

/// The housekeeping loop's wait: cut short by a wake, whether it came during the wait or
/// before it; otherwise as long as asked.
@Suite(.timeLimit(.minutes(1))) struct JournalWakeupTests {
    @Test func aWakeDuringTheWaitEndsIt() async {
        let wakeup = JournalWakeup()
        let waiting = Task { await wakeup.wait(atMost: .seconds(600)) }
        try? await Task.sleep(for: .milliseconds(20))
        wakeup.wake()
        #expect(await waiting.value)
    }

    @Test func aWakeWhileNobodyWaitsEndsTheNextWaitOnly() async {
        let wakeup = JournalWakeup()
        wakeup.wake()
        wakeup.wake()
        #expect(await wakeup.wait(atMost: .seconds(600)))
        let started = ContinuousClock.now
        #expect(await wakeup.wait(atMost: .milliseconds(50)))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    @Test func aCancelledWaitSaysSo() async {
        let wakeup = JournalWakeup()
        let waiting = Task { await wakeup.wait(atMost: .seconds(600)) }
        waiting.cancel()
        #expect(await waiting.value == false)
    }
}
