import BotHostKit
import Testing

@Suite struct TimeLimiterTests {
    /// Runs until cancelled, as a hung handler does.
    @Sendable private static func hang() async throws {
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    @Test func operationsSharingALimiterEndEachByItself() async {
        let limiter = TimeLimiter(limit: .milliseconds(200))
        async let hung = limiter.run(Self.hang)
        async let quick = limiter.run {}
        async let failing = limiter.run { throw CancellationError() }
        guard case .finished = await quick else { Issue.record("a quick operation was not finished"); return }
        guard case .failed = await failing else { Issue.record("a throwing operation did not fail"); return }
        guard case .timedOut = await hung else { Issue.record("a hung operation did not time out"); return }
    }

    @Test func oneOperationAfterAnotherEachTimesOut() async {
        let limiter = TimeLimiter(limit: .milliseconds(100))
        for _ in 0..<2 {
            guard case .timedOut = await limiter.run(Self.hang) else { Issue.record("not timed out"); return }
        }
    }

    @Test func cancellingTheCallerEndsTheWaitAtOnce() async {
        let limiter = TimeLimiter(limit: .seconds(3600))
        let caller = Task { await limiter.run(Self.hang) }
        caller.cancel()
        guard case .failed(let error) = await caller.value else { Issue.record("not failed"); return }
        #expect(error is CancellationError)
    }
}
