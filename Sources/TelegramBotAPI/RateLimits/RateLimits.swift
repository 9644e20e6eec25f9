/// The sending limits of one bot: its own, each chat's, and each group's on top (a group
/// is a chat with a negative id, or one named by `@username`). `nil` leaves that limit
/// out.
public struct RateLimits: Sendable, Hashable {
    /// All messages of the bot, to every chat.
    public var perBot: RateLimit?
    /// The messages to one chat.
    public var perChat: RateLimit?
    /// The messages to one group, on top of ``perChat``.
    public var perGroup: RateLimit?

    public init(perBot: RateLimit?, perChat: RateLimit?, perGroup: RateLimit?) {
        self.perBot = perBot
        self.perChat = perChat
        self.perGroup = perGroup
    }

    /// Telegram's limits as its Bot FAQ gives them (the exact values are undocumented and
    /// vary): about 30 messages a second per bot, one a second per chat with short
    /// bursts, 20 a minute per group.
    public static let telegram = RateLimits(
        perBot: RateLimit(30, per: .seconds(1)), perChat: RateLimit(1, per: .seconds(1), burst: 3),
        perGroup: RateLimit(20, per: .seconds(60)))

    /// No limits at all.
    public static let off = RateLimits(perBot: nil, perChat: nil, perGroup: nil)

    /// Whether every limit is left out: then no call waits.
    public var isOff: Bool { perBot == nil && perChat == nil && perGroup == nil }
}
