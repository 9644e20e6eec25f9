/// One of Telegram's sending limits: `messages` per `interval`, and up to `burst` at once
/// after a quiet spell (a token bucket that holds `burst` tokens and refills at
/// `messages / interval`).
///
/// `RateLimit(20, per: .seconds(60))` sends at a steady pace, one message every 3 s, and
/// never more than 21 within a minute; `RateLimit(1, per: .seconds(1), burst: 3)` lets a
/// chat take three messages at once, then one a second. Over any stretch of time at most
/// `burst` plus the rate times the stretch go, so a burst of `messages` would let twice
/// the rate through in the first `interval`.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// Messages per ``interval``; at least 1.
    public var messages: Int
    public var interval: Duration
    /// Messages that may go at once; at least 1. Defaults to 1: a steady pace.
    public var burst: Int

    public init(_ messages: Int, per interval: Duration, burst: Int? = nil) {
        precondition(messages >= 1 && interval > .zero, "a rate limit lets at least one message through in some time")
        self.messages = messages
        self.interval = interval
        self.burst = max(1, burst ?? 1)
    }

    /// The rate in messages per second.
    public var perSecond: Double { Double(messages) / interval.seconds }

    /// As the manifest writes it: `30/s`, `1/s burst 3`, `20/m`.
    public var description: String {
        let unit =
            switch interval {
            case .seconds(1): "s"
            case .seconds(60): "m"
            case .seconds(3600): "h"
            default: formatDuration(interval)
            }
        return "\(messages)/\(unit)" + (burst == 1 ? "" : " burst \(burst)")
    }
}
