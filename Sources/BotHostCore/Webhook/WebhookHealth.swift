/// A webhook bot's side of `/health`: what `getWebhookInfo` last said (asked every
/// minute) and the deliveries committed since the bot started.
struct WebhookHealth: Sendable, Equatable, Codable {
    /// The URL Telegram posts to, as Telegram has it (`public_url/<lock id>`, no secret);
    /// empty when no webhook is set.
    var url = ""
    /// Updates Telegram holds for the bot, not yet delivered.
    var pendingUpdateCount = 0
    /// Telegram's words for its last failed delivery, and when it was (Unix time, seconds).
    var lastErrorMessage: String?
    var lastErrorDate: Int64?
    /// Deliveries committed to the journal (each a 200).
    var deliveries = 0

    enum CodingKeys: String, CodingKey {
        case url
        case pendingUpdateCount = "pending_update_count"
        case lastErrorMessage = "last_error_message"
        case lastErrorDate = "last_error_date"
        case deliveries
    }
}
