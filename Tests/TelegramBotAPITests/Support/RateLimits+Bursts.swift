import TelegramBotAPI

extension RateLimits {
    /// Telegram's limits with a burst as large as the rate for the bot (30) and for each
    /// group (20): tests of the chat rules and of the queue's order then see several calls
    /// go at once, where ``RateLimits/telegram`` would space them out by the bot's steady
    /// pace.
    static let telegramWithBursts = RateLimits(
        perBot: RateLimit(30, per: .seconds(1), burst: 30), perChat: RateLimits.telegram.perChat,
        perGroup: RateLimit(20, per: .seconds(60), burst: 20))
}
