/// Where a bot is in its life, as logs, the admin endpoint and plugins see it.
public enum BotState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Taking its lock, checking its token, starting its plugin.
    case starting
    /// Long-polling for updates.
    case polling
    /// Taking updates from Telegram's webhook deliveries (`ingress: webhook`).
    case receiving
    /// Waiting after a failed poll, per its retry policy.
    case backingOff = "backing_off"
    /// Waiting out Telegram's `retry_after` (429) before polling again; not a failure, so
    /// it spends none of the retry budget.
    case rateLimited = "rate_limited"
    /// Polling paused: the bot's update journal cannot take updates (a full disk, a lost
    /// database); Telegram keeps them meanwhile, and polling goes on once it can.
    case journalUnavailable = "journal_unavailable"
    /// Paused by the operator (the control API): no `getUpdates`, so Telegram keeps the
    /// updates; the lock stays held, and updates already fetched are still handled.
    case paused
    /// Waiting for another process to give up the bot's lock (`on_locked: wait`).
    case standby
    /// Not run: another process holds its lock (`on_locked: skip`).
    case skipped
    /// Stopped by an error it cannot recover from.
    case failed
    /// Draining updates, running shutdown hooks.
    case stopping
    /// Done.
    case stopped
}

/// Something a plugin may want to know about its bot's polling.
public enum BotEvent: Sendable, Hashable {
    /// The bot moved to a new state.
    case stateChanged(BotState)
    /// Another poller took the token (409); the bot retries after `delay`.
    case conflict(attempt: Int, delay: Duration)
}
