import Synchronization
import Testing

@testable import BotHostCore

/// The tests wait for counts rather than for times, so that a loaded machine, which delays
/// ticks, does not fail them.
@Suite(.timeLimit(.minutes(1))) struct RecurringChecksTests {
    /// Returns once `condition` holds, or after 30 s (then the expectations fail).
    private func waitUntil(_ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while !condition() && clock.now - start < .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Ten bots share the rounds evenly, none checked twice as often as another; a removed
    /// bot is checked no more.
    @Test func eachBotIsCheckedOnceARound() async throws {
        let checks = RecurringChecks(interval: .milliseconds(100))
        let counts = Mutex([Int](repeating: 0, count: 10))
        let bots = (0..<10).map { LockID(botID: "\($0)") }
        for (index, bot) in bots.enumerated() {
            checks.add(bot) { counts.withLock { $0[index] += 1 } }
        }
        try await waitUntil { counts.withLock { $0.min()! } >= 5 }
        let spread = counts.withLock { $0 }
        #expect(spread.min()! >= 5 && spread.max()! <= spread.min()! + 2, "\(spread)")

        await checks.remove(bots[0])
        let removedAt = counts.withLock { $0[0] }
        try await waitUntil { counts.withLock { $0[1] } >= spread[1] + 3 }
        #expect(counts.withLock { $0[0] } == removedAt)
        for bot in bots.dropFirst() { await checks.remove(bot) }
    }

    /// A bot added again (a restart) is checked once a round, not twice.
    @Test func aBotAddedAgainIsCheckedOnceARound() async throws {
        let checks = RecurringChecks(interval: .milliseconds(100))
        let counts = Mutex([0, 0])
        let again = LockID(botID: "again")
        let once = LockID(botID: "once")
        checks.add(again) { counts.withLock { $0[0] += 1 } }
        checks.add(once) { counts.withLock { $0[1] += 1 } }
        await checks.remove(again)
        checks.add(again) { counts.withLock { $0[0] += 1 } }
        try await waitUntil { counts.withLock { $0[1] } >= 5 }
        let both = counts.withLock { $0 }
        #expect(both[0] <= both[1] + 2, "\(both)")
        await checks.remove(again)
        await checks.remove(once)
    }

    /// A check that hangs holds back only its own bot, and removing the bot cancels it.
    @Test func aHungCheckHoldsBackOnlyItsBot() async throws {
        let checks = RecurringChecks(interval: .milliseconds(100))
        let started = Mutex([0, 0])
        let hung = LockID(botID: "hung")
        let other = LockID(botID: "other")
        checks.add(hung) {
            started.withLock { $0[0] += 1 }
            try? await Task.sleep(for: .seconds(600))
        }
        checks.add(other) { started.withLock { $0[1] += 1 } }
        try await waitUntil { started.withLock { $0[1] } >= 5 }
        #expect(started.withLock { $0 }.first == 1, "its next turns are skipped while it runs")
        let removing = ContinuousClock.now
        await checks.remove(hung)
        #expect(ContinuousClock.now - removing < .seconds(5), "cancelled, not waited out")
        await checks.remove(other)
    }

    /// `checkSoon` checks a bot at the next tick (a second at most), long before its turn
    /// (the end of a ten-minute round).
    @Test func checkSoonChecksAtTheNextTick() async throws {
        let checks = RecurringChecks(interval: .seconds(600))
        let count = Mutex(0)
        let bot = LockID(botID: "1")
        checks.add(bot) { count.withLock { $0 += 1 } }
        checks.checkSoon(bot)
        try await waitUntil { count.withLock { $0 } > 0 }
        #expect(count.withLock { $0 } == 1)
        await checks.remove(bot)
    }

    /// Two hundred bots asked for at once start at most ``RecurringChecks/maxRunning`` checks
    /// at a time, and every one of them is checked.
    @Test func manyAskedAtOnceAreCheckedAFewAtATime() async throws {
        let checks = RecurringChecks(interval: .milliseconds(100))
        let counts = Mutex((running: 0, most: 0, done: 0))
        let bots = (0..<200).map { LockID(botID: "\($0)") }
        for bot in bots {
            checks.add(bot) {
                counts.withLock {
                    $0.running += 1
                    $0.most = max($0.most, $0.running)
                }
                try? await Task.sleep(for: .milliseconds(30))
                counts.withLock {
                    $0.running -= 1
                    $0.done += 1
                }
            }
            checks.checkSoon(bot)
        }
        try await waitUntil { counts.withLock { $0.done } >= 200 }
        #expect(counts.withLock { $0.done } >= 200)
        #expect(counts.withLock { $0.most } <= RecurringChecks.maxRunning, "\(counts.withLock { $0 })")
        for bot in bots { await checks.remove(bot) }
    }
}
