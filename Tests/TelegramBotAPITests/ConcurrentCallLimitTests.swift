import Synchronization
import Testing

@testable import TelegramBotAPI

@Suite struct ConcurrentCallLimitTests {
    /// Two at a time: a third call waits until one ends, and a waiting call that is
    /// cancelled throws at once without taking a place.
    @Test func keepsToItsLimit() async throws {
        let limit = ConcurrentCallLimit(2)
        let running = Mutex((now: 0, most: 0, waiting: [CheckedContinuation<Void, Never>]()))
        let call: @Sendable () async throws -> Void = {
            try await limit.run {
                await withCheckedContinuation { continuation in
                    running.withLock {
                        $0.now += 1
                        $0.most = max($0.most, $0.now)
                        $0.waiting.append(continuation)
                    }
                }
            }
        }
        let finishOne: @Sendable () -> Bool = {
            guard let call = running.withLock({ $0.waiting.isEmpty ? nil : $0.waiting.removeFirst() }) else { return false }
            running.withLock { $0.now -= 1 }
            call.resume()
            return true
        }
        let calls = (0..<3).map { _ in Task { try await call() } }
        let clock = ContinuousClock()
        let started = clock.now
        while running.withLock({ $0.now }) < 2 && clock.now - started < .seconds(30) {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(running.withLock { $0.now } == 2, "the third waits")
        let cancelled = Task { try await call() }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        var finished = 0
        while finished < 3 {
            if finishOne() { finished += 1 } else { try await Task.sleep(for: .milliseconds(5)) }
        }
        for call in calls { try await call.value }
        #expect(running.withLock { $0.most } == 2)
    }
}
