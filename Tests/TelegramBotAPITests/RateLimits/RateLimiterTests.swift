import Synchronization
import TestSupport
import Testing

@testable import TelegramBotAPI

/// The limiter's waiting and waking, on a manual clock: nothing here waits in real time.
@Suite struct RateLimiterTests {
    let clock = ManualClock()
    let observer = RecordingObserver()

    func limiter(_ limits: RateLimits = .telegramWithBursts, maxWait: Duration = .seconds(60)) -> RateLimiter {
        RateLimiter(limits: limits, maxWait: maxWait, clock: clock, observer: observer)
    }

    @Test func callsWithinTheLimitsDoNotWait() async throws {
        let limiter = limiter()
        for _ in 1...3 { try await limiter.admit(message(to: 1), method: "sendMessage") }
        try await limiter.admit(.none, method: "getMe")
        #expect(clock.sleeperCount == 0)
        #expect(observer.waits.isEmpty)
    }

    @Test func aHeldCallGoesWhenTheClockReachesItsTurn() async throws {
        let limiter = limiter()
        for _ in 1...3 { try await limiter.admit(message(to: 1), method: "sendMessage") }
        let fourth = Task { try await limiter.admit(message(to: 1), method: "sendMessage") }
        await clock.waitForSleepers(1)
        await observer.waitForLength(1)
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 1, "not yet")
        clock.advance(by: .milliseconds(1))
        try await fourth.value
        #expect(observer.waits.map { $0.isAbout(.seconds(1)) } == [true])
        #expect(observer.lastLength == 0)
    }

    @Test func repliesOvertakeBulkCallsWaitingForTheBotsTokens() async throws {
        let limiter = limiter(RateLimits(perBot: RateLimit(1, per: .seconds(1)), perChat: nil, perGroup: nil))
        try await limiter.admit(message(to: 1), method: "sendMessage")
        let order = Order()
        let bulk = Task {
            try await SendPriority.$current.withValue(.bulk) { try await limiter.admit(message(to: 2), method: "sendMessage") }
            order.append("bulk")
        }
        await observer.waitForLength(1)
        let reply = Task {
            try await SendPriority.$current.withValue(.reply) { try await limiter.admit(message(to: 3), method: "sendMessage") }
            order.append("reply")
        }
        await observer.waitForLength(2)
        clock.advance(by: .seconds(1))
        try await reply.value
        #expect(order.names == ["reply"])
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        try await bulk.value
        #expect(order.names == ["reply", "bulk"])
    }

    @Test func aPausedChatHoldsOnlyItsOwnCalls() async throws {
        let limiter = limiter()
        limiter.pause(.id(1), for: .seconds(5))
        let paused = Task { try await limiter.admit(message(to: 1), method: "sendMessage") }
        await clock.waitForSleepers(1)
        try await limiter.admit(message(to: 2), method: "sendMessage")
        clock.advance(by: .seconds(5))
        try await paused.value
    }

    @Test func aCancelledCallLeavesTheQueue() async throws {
        let limiter = limiter()
        limiter.pause(.id(1), for: .seconds(5))
        let paused = Task { try await limiter.admit(message(to: 1), method: "sendMessage") }
        await observer.waitForLength(1)
        paused.cancel()
        await #expect(throws: CancellationError.self) { try await paused.value }
        #expect(observer.lastLength == 0)
        for _ in 0..<1000 where clock.sleeperCount > 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(clock.sleeperCount == 0, "nothing waits, so neither does the timer")
    }

    @Test func aCallThatWouldWaitTooLongFailsAtOnce() async throws {
        let limiter = limiter(maxWait: .seconds(2))
        limiter.pause(.id(1), for: .seconds(10))
        await #expect(
            throws: RateLimitWaitTooLong(method: "sendMessage", chat: .id(1), wait: .seconds(10), maxWait: .seconds(2))
        ) {
            try await limiter.admit(message(to: 1), method: "sendMessage")
        }
        #expect(observer.refusals == 1)
    }

    @Test func aCallStillWaitingAtItsMaxWaitFails() async throws {
        let limiter = limiter(maxWait: .seconds(2))
        for _ in 1...3 { try await limiter.admit(message(to: 1), method: "sendMessage") }
        let fourth = Task { try await limiter.admit(message(to: 1), method: "sendMessage") }
        await observer.waitForLength(1)
        limiter.pause(.id(1), for: .seconds(30))
        clock.advance(by: .seconds(1))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        await #expect(throws: RateLimitWaitTooLong.self) { try await fourth.value }
        #expect(observer.refusals == 1)
    }

    private func message(to chat: Int64) -> OutgoingMessages {
        OutgoingMessages(chat: .id(chat), count: 1)
    }
}

/// The order in which calls went.
final class Order: Sendable {
    private let state = Mutex<[String]>([])
    var names: [String] { state.withLock { $0 } }
    func append(_ name: String) { state.withLock { $0.append(name) } }
}

/// Records what a limiter tells its observer.
final class RecordingObserver: RateLimitObserver {
    private let state = Mutex<(lengths: [Int], waits: [Duration], refusals: Int, rateLimited: Int)>(([], [], 0, 0))

    var lastLength: Int? { state.withLock { $0.lengths.last } }
    var waits: [Duration] { state.withLock { $0.waits } }
    var refusals: Int { state.withLock { $0.refusals } }
    var rateLimited: Int { state.withLock { $0.rateLimited } }

    func queueChanged(length: Int) { state.withLock { $0.lengths.append(length) } }
    func callWaited(_ wait: Duration) { state.withLock { $0.waits.append(wait) } }
    func callRefused() { state.withLock { $0.refusals += 1 } }
    func callRateLimited() { state.withLock { $0.rateLimited += 1 } }

    /// Waits (in real time, briefly yielding) until the queue holds `length` calls.
    func waitForLength(_ length: Int) async {
        while lastLength != length { try? await Task.sleep(for: .microseconds(200)) }
    }
}
