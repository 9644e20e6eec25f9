import TelegramBotAPI

/// A handler's error that came from one of its Bot API calls: `sendMessage: 404 Not
/// Found: method not found`, as the "handler failed" line shows it.
struct FailedCall: Error, CustomStringConvertible {
    var method: String
    var error: BotAPIError

    var description: String { "\(method): \(error)" }
}
