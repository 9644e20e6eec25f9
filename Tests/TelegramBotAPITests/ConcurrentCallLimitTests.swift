import Synchronization
import Testing

@testable import TelegramBotAPI

@Suite struct ConcurrentCallLimitTests {
    /// An interruption ends a wait for a place at once, and one that came before the wait
    /// ends it before it begins; neither takes a place.
    @Test(.timeLimit(.minutes(1))) func anInterruptionEndsAWaitForAPlace() async throws {
        let limit = ConcurrentCallLimit(1)
        let holder = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holding = Task {
            try await limit.run { await withCheckedContinuation { continuation in holder.withLock { $0 = continuation } } }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while holder.withLock({ $0 == nil }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }

        let interruption = CallInterruption()
        let waiting = Task { try await limit.run(interruptedBy: interruption) { true } }
        try await Task.sleep(for: .milliseconds(50))
        interruption.interrupt()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        await #expect(throws: CancellationError.self) { _ = try await limit.run(interruptedBy: interruption) { true } }

        holder.withLock { $0 }?.resume()
        try await holding.value
        #expect(try await limit.run(interruptedBy: CallInterruption()) { true }, "the place was given back")
    }

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

    /// One at a time, each for 50 ms at most: a call that hangs lets the next one run
    /// once its turn is over, and the place is not given twice when it returns.
    @Test(.timeLimit(.minutes(1))) func aCallThatHangsGivesUpItsPlaceWhenItsTurnIsOver() async throws {
        let limit = ConcurrentCallLimit(1)
        let hung = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let first = Task {
            try await limit.run(holdingAtMost: .milliseconds(50)) { _ in
                await withCheckedContinuation { continuation in hung.withLock { $0 = continuation } }
            }
        }
        while hung.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { try await limit.run(holdingAtMost: .seconds(60)) { _ in "ran" } }
        #expect(try await second.value == "ran", "while the first still hangs")
        #expect(hung.withLock { $0 != nil })

        // The second gave its place back on return; the first gives none when it ends.
        let third = Task { try await limit.run(holdingAtMost: .seconds(60)) { _ in 3 } }
        #expect(try await third.value == 3)
        hung.withLock { $0?.resume() }
        try await first.value
        let running = Mutex(0)
        let call: @Sendable () async throws -> Int = {
            try await limit.run(holdingAtMost: .seconds(60)) { _ in
                let now = running.withLock { running in
                    running += 1
                    return running
                }
                try await Task.sleep(for: .milliseconds(20))
                running.withLock { $0 -= 1 }
                return now
            }
        }
        let calls = (0..<3).map { _ in Task { try await call() } }
        for call in calls { #expect(try await call.value == 1, "still one at a time") }
    }

    /// A call that ends its turn early lets the next run while it goes on.
    @Test(.timeLimit(.minutes(1))) func aTurnEndedEarlyLetsTheNextCallRun() async throws {
        let limit = ConcurrentCallLimit(1)
        let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let first = Task {
            try await limit.run(holdingAtMost: .seconds(60)) { turn in
                turn.end()
                turn.end()
                await withCheckedContinuation { continuation in waiting.withLock { $0 = continuation } }
            }
        }
        while waiting.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await Task { try await limit.run(holdingAtMost: .seconds(60)) { _ in 2 } }.value == 2)
        waiting.withLock { $0?.resume() }
        try await first.value
    }
}

extension ConcurrentCallLimit {
    /// `call` in a turn of its own (``turn(holdingAtMost:)``), ended when it returns, as the
    /// host's bots take theirs.
    fileprivate func run<Result>(
        holdingAtMost holding: Duration, _ call: (Turn) async throws -> Result
    ) async throws -> Result {
        let turn = try await turn(holdingAtMost: holding)
        defer { turn.end() }
        return try await call(turn)
    }
}
