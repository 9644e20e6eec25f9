/// A token bucket for one ``RateLimit``: it holds up to `burst` tokens and gains
/// `messages / interval` a second; each message takes one.
///
/// A call that sends more messages than the burst (an album of ten in a chat with a burst
/// of three) goes once the bucket is full and leaves it in debt, so the messages after it
/// wait until the debt is paid off: over any stretch of time the bucket lets through at
/// most `burst` plus the rate times the stretch.
///
/// Time is the caller's, a duration since any fixed origin, so the bucket is tested
/// without a clock.
package struct TokenBucket: Sendable {
    package let limit: RateLimit
    private var tokens: Double
    /// When ``tokens`` was last brought up to date.
    private var updated: Duration

    /// Below this a shortfall is rounding, not a wait.
    private static let epsilon = 1e-9

    /// A full bucket.
    package init(_ limit: RateLimit, at now: Duration) {
        self.limit = limit
        tokens = Double(limit.burst)
        updated = now
    }

    /// The tokens at `now`: negative while in debt.
    package func tokens(at now: Duration) -> Double {
        min(Double(limit.burst), tokens + limit.perSecond * max(0, (now - updated).seconds))
    }

    /// How long from `now` until a call of `count` messages may go, once `ahead` messages
    /// queued before it have gone: zero when it may go now. `grace` lets a call go that
    /// early (the emulator's allowance for network jitter).
    package func delay(for count: Int, after ahead: Int = 0, at now: Duration, grace: Duration = .zero) -> Duration {
        let needed = Double(ahead + min(count, limit.burst)) - tokens(at: now) - limit.perSecond * grace.seconds
        return needed <= Self.epsilon ? .zero : .seconds(needed / limit.perSecond)
    }

    /// Takes `count` tokens at `now`, into debt if need be.
    package mutating func take(_ count: Int, at now: Duration) {
        tokens = tokens(at: now) - Double(count)
        updated = now
    }

    /// Starts the bucket again at `time` (which may be later than now) with one token:
    /// none until then, one message at `time`, and the rate from there.
    package mutating func restart(at time: Duration) {
        tokens = 1
        updated = time
    }

    /// Whether the bucket is as a new one would be: then it can be forgotten.
    package func isFull(at now: Duration) -> Bool {
        tokens(at: now) >= Double(limit.burst) - Self.epsilon
    }
}
