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

    /// Which of a bot's metrics a process keeps. Under a supervisor, the supervisor keeps
    /// the bot's state and whether its lock is held, which only it knows (a worker in a
    /// crash loop reports nothing), and the worker keeps the rest (updates, polls, handler
    /// times); `/metrics` shows both (``PrometheusText``).
    enum Share {
        /// Every metric: the bot runs in this process, and no supervisor watches it.
        case all
        case supervisor
        case worker

        static let supervised: Set = ["bothost_bot_state", "bothost_lock_held"]

        func keeps(_ label: String) -> Bool {
            switch self {
            case .all: true
            case .supervisor: Self.supervised.contains(label)
            case .worker: !Self.supervised.contains(label)
            }
        }
    }

    /// A bot's metrics as `share` says; the others are one shared metric that records
    /// nothing, so that a supervisor of ten thousand bots does not keep 190,000 metrics
    /// that record nothing, and their label strings.
    init(bot: String, factory: any MetricsFactory, share: Share = .all) {
        let labels = [("bot", bot)]
        func counter(_ label: String) -> Counter {
            share.keeps(label) ? Counter(label: label, dimensions: labels, factory: factory) : Self.unkept.counter
        }
        func gauge(_ label: String) -> Gauge {
            share.keeps(label) ? Gauge(label: label, dimensions: labels, factory: factory) : Self.unkept.gauge
        }
        func timer(_ label: String) -> Timer {
            share.keeps(label) ? Timer(label: label, dimensions: labels, factory: factory) : Self.unkept.timer
        }
        updatesReceived = counter("bothost_updates_received_total")
        updatesHandled = counter("bothost_updates_handled_total")
        handlerErrors = counter("bothost_handler_errors_total")
        handlerDuration = timer("bothost_handler_duration_seconds")
        polls = counter("bothost_polls_total")
        conflicts = counter("bothost_conflicts_total")
        retries = counter("bothost_retries_total")
        rateLimited = counter("bothost_rate_limited_total")
        restarts = counter("bothost_restarts_total")
        lockHeld = gauge("bothost_lock_held")
        deadLetters = counter("bothost_dead_letters_total")
        journalBacklog = gauge("bothost_journal_unfinished")
        journalDeadLetters = gauge("bothost_journal_dead_letters")
        journalFinished = gauge("bothost_journal_finished")
        webhookPending = gauge("bothost_webhook_pending_updates")
        sendQueue = gauge("bothost_send_queue")
        sendWait = timer("bothost_send_wait_seconds")
        sendRefused = counter("bothost_send_refused_total")
        sendRateLimited = counter("bothost_send_rate_limited_total")
        states =
            share.keeps("bothost_bot_state")
            ? Dictionary(
                uniqueKeysWithValues: BotState.allCases.map { state in
                    (state, Gauge(label: "bothost_bot_state", dimensions: labels + [("state", state.rawValue)], factory: factory))
                }) : [:]
    }

    /// The metrics a process does not keep, shared by every bot.
    private static let unkept = (
        counter: Counter(label: "unkept", dimensions: [], factory: NOOPMetricsHandler.instance),
        gauge: Gauge(label: "unkept", dimensions: [], factory: NOOPMetricsHandler.instance),
        timer: Timer(label: "unkept", dimensions: [], factory: NOOPMetricsHandler.instance)
    )

    /// Sets the `bothost_bot_state` gauge of `state` to 1 and the others to 0.
    func show(_ state: BotState) {
        for (each, gauge) in states { gauge.record(each == state ? 1 : 0) }
    }
}
