/// What the bot's process made of one webhook delivery, and so what Telegram is answered.
///
/// Only ``accepted`` and ``duplicate`` answer 200, which tells Telegram the update is
/// delivered: the first once it is committed to the bot's journal, the second because it
/// already is. Every other answer carries `Retry-After`, and Telegram delivers the update
/// again later.
package enum WebhookAnswer: String, Sendable, Codable {
    /// Committed to the journal; the dispatcher has it.
    case accepted
    /// Its `update_id` is already in the journal: a retry after a lost answer.
    case duplicate
    /// The operator paused the bot: Telegram keeps the update meanwhile.
    case paused
    /// The bot holds the most unfinished updates it takes (``PollingPipeline/backlogLimit``).
    case backlogFull = "backlog_full"
    /// The journal cannot write (a full disk, a lost database).
    case journalUnavailable = "journal_unavailable"
    /// The bot is not taking updates here: starting, stopping, or run by another host.
    case unavailable

    /// The HTTP status Telegram is answered with.
    package var status: Int {
        switch self {
        case .accepted, .duplicate: 200
        case .paused, .backlogFull: 429
        case .journalUnavailable, .unavailable: 503
        }
    }

    /// Seconds for `Retry-After`; `nil` with a 200.
    package var retryAfter: Int? {
        switch self {
        case .accepted, .duplicate: nil
        case .unavailable: 1
        case .backlogFull: 5
        case .paused, .journalUnavailable: 10
        }
    }
}
