import BotHostKit
import CoreMetrics
import TelegramBotAPI

/// One bot's metrics, labelled `bot=NAME`, made through swift-metrics from the host's
/// factory (Prometheus for `/metrics`).
///
/// The factory is passed in rather than bootstrapped globally, so that several hosts
/// (in tests) each keep their own registry.
struct BotMetrics: Sendable {
    let updatesReceived: Counter
    let updatesHandled: Counter
    let handlerErrors: Counter
    let handlerDuration: Timer
    let polls: Counter
    let conflicts: Counter
    let retries: Counter
    let rateLimited: Counter
    let restarts: Counter
    let lockHeld: Gauge
    let deadLetters: Counter
    let journalBacklog: Gauge
    let journalDeadLetters: Gauge
    let journalFinished: Gauge
    /// A webhook bot's `pending_update_count`, as `getWebhookInfo` last said.
    let webhookPending: Gauge
    /// Outgoing calls waiting for the bot's rate limits now.
    let sendQueue: Gauge
    /// How long calls that the rate limits held back waited.
    let sendWait: Timer
    /// Outgoing calls refused because they would have waited past `limits.max_wait`.
    let sendRefused: Counter
    /// Outgoing calls answered 429 by Telegram.
    let sendRateLimited: Counter
    private let states: [BotState: Gauge]

    init(bot: String, factory: any MetricsFactory) {
        let labels = [("bot", bot)]
        updatesReceived = Counter(label: "bothost_updates_received_total", dimensions: labels, factory: factory)
        updatesHandled = Counter(label: "bothost_updates_handled_total", dimensions: labels, factory: factory)
        handlerErrors = Counter(label: "bothost_handler_errors_total", dimensions: labels, factory: factory)
        handlerDuration = Timer(label: "bothost_handler_duration_seconds", dimensions: labels, factory: factory)
        polls = Counter(label: "bothost_polls_total", dimensions: labels, factory: factory)
        conflicts = Counter(label: "bothost_conflicts_total", dimensions: labels, factory: factory)
        retries = Counter(label: "bothost_retries_total", dimensions: labels, factory: factory)
        rateLimited = Counter(label: "bothost_rate_limited_total", dimensions: labels, factory: factory)
        restarts = Counter(label: "bothost_restarts_total", dimensions: labels, factory: factory)
        lockHeld = Gauge(label: "bothost_lock_held", dimensions: labels, factory: factory)
        deadLetters = Counter(label: "bothost_dead_letters_total", dimensions: labels, factory: factory)
        journalBacklog = Gauge(label: "bothost_journal_unfinished", dimensions: labels, factory: factory)
        journalDeadLetters = Gauge(label: "bothost_journal_dead_letters", dimensions: labels, factory: factory)
        journalFinished = Gauge(label: "bothost_journal_finished", dimensions: labels, factory: factory)
        webhookPending = Gauge(label: "bothost_webhook_pending_updates", dimensions: labels, factory: factory)
        sendQueue = Gauge(label: "bothost_send_queue", dimensions: labels, factory: factory)
        sendWait = Timer(label: "bothost_send_wait_seconds", dimensions: labels, factory: factory)
        sendRefused = Counter(label: "bothost_send_refused_total", dimensions: labels, factory: factory)
        sendRateLimited = Counter(label: "bothost_send_rate_limited_total", dimensions: labels, factory: factory)
        states = Dictionary(
            uniqueKeysWithValues: BotState.allCases.map { state in
                (state, Gauge(label: "bothost_bot_state", dimensions: labels + [("state", state.rawValue)], factory: factory))
            })
    }

    /// Sets the `bothost_bot_state` gauge of `state` to 1 and the others to 0.
    func show(_ state: BotState) {
        for (each, gauge) in states { gauge.record(each == state ? 1 : 0) }
    }
}
