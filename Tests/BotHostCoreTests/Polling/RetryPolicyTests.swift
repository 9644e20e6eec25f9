import Testing

@testable import BotHostCore

@Suite struct RetryPolicyTests {
    @Test func defaultSequenceThenGiveUp() {
        let policy = RetryPolicy()
        #expect((1...5).map { policy.baseDelay(attempt: $0) } == [5, 10, 20, 40, 80].map { .seconds($0) })
        #expect(policy.baseDelay(attempt: 6) == nil)
    }

    @Test func capAtMaxDelay() {
        let policy = RetryPolicy(maxRetries: nil, initialDelay: .seconds(1), maxDelay: .seconds(10), backoffFactor: 3)
        #expect((1...5).map { policy.baseDelay(attempt: $0) } == [1, 3, 9, 10, 10].map { .seconds($0) })
        #expect(policy.baseDelay(attempt: 1000) == .seconds(10))
    }

    @Test func jitterStaysWithinBounds() {
        let policy = RetryPolicy(initialDelay: .seconds(10), jitter: 0.2)
        #expect(policy.delay(attempt: 1, random: 0) == .seconds(8))
        #expect(policy.delay(attempt: 1, random: 0.5) == .seconds(10))
        for random in stride(from: 0.0, to: 1.0, by: 0.01) {
            let delay = policy.delay(attempt: 1, random: random)!
            #expect(delay >= .seconds(8) && delay <= .seconds(12))
        }
    }

    @Test func backoffResetsAndHonoursAMinimum() {
        var backoff = Backoff(policy: RetryPolicy(maxRetries: 3), random: { 0.5 })
        #expect(backoff.nextDelay() == .seconds(5))
        #expect(backoff.nextDelay() == .seconds(10))
        backoff.reset()
        #expect(backoff.nextDelay(atLeast: .seconds(30)) == .seconds(30))
        #expect(backoff.progress == "1/3")
        #expect(backoff.nextDelay() == .seconds(10))
        #expect(backoff.nextDelay() == .seconds(20))
        #expect(backoff.nextDelay() == nil)
    }
}
