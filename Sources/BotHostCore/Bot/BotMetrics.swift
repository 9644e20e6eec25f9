import BotHostKit
import Synchronization

/// One bot's metrics, labelled `bot=NAME`, which ``HostMetrics`` writes out in Prometheus's
/// text format together with the other bots' of the process.
///
/// Why not swift-metrics objects, as the host's own metrics are: swift-prometheus keeps
/// each metric as an object with its labels, a prerendered line and entries in its
/// registry's dictionaries, about 13 KiB for a bot's nineteen metrics and 130 MiB for a
/// host of ten thousand bots. Here a bot's counters and gauges are integers under one
/// lock, and a histogram's buckets exist from its first sample on.
final class BotMetrics: Sendable {
    /// The counters of every bot (Prometheus type `counter`).
    enum Counter: Int, CaseIterable {
        case updatesReceived, updatesHandled, handlerErrors, polls, conflicts, retries, rateLimited, restarts
        case deadLetters
        /// Outgoing calls refused because they would have waited past `limits.max_wait`.
        case sendRefused
        /// Outgoing calls answered 429 by Telegram.
        case sendRateLimited

        var name: String {
            switch self {
            case .updatesReceived: "bothost_updates_received_total"
            case .updatesHandled: "bothost_updates_handled_total"
            case .handlerErrors: "bothost_handler_errors_total"
            case .polls: "bothost_polls_total"
            case .conflicts: "bothost_conflicts_total"
            case .retries: "bothost_retries_total"
            case .rateLimited: "bothost_rate_limited_total"
            case .restarts: "bothost_restarts_total"
            case .deadLetters: "bothost_dead_letters_total"
            case .sendRefused: "bothost_send_refused_total"
            case .sendRateLimited: "bothost_send_rate_limited_total"
            }
        }
    }

    /// The gauges of every bot (Prometheus type `gauge`), each an integer.
    enum Gauge: Int, CaseIterable {
        case lockHeld, journalBacklog, journalDeadLetters, journalFinished
        /// A webhook bot's `pending_update_count`, as `getWebhookInfo` last said.
        case webhookPending
        /// Outgoing calls waiting for the bot's rate limits now.
        case sendQueue

        var name: String {
            switch self {
            case .lockHeld: "bothost_lock_held"
            case .journalBacklog: "bothost_journal_unfinished"
            case .journalDeadLetters: "bothost_journal_dead_letters"
            case .journalFinished: "bothost_journal_finished"
            case .webhookPending: "bothost_webhook_pending_updates"
            case .sendQueue: "bothost_send_queue"
            }
        }
    }

    /// The histograms of every bot, of durations in seconds (Prometheus type `histogram`).
    enum Histogram: Int, CaseIterable {
        case handlerDuration
        /// How long calls that the rate limits held back waited.
        case sendWait

        var name: String {
            switch self {
            case .handlerDuration: "bothost_handler_duration_seconds"
            case .sendWait: "bothost_send_wait_seconds"
            }
        }

        /// The buckets' upper bounds, seconds: swift-prometheus's defaults for a timer.
        static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    }

    /// Which of a bot's metrics a process writes out. Under a supervisor, the supervisor
    /// writes the bot's state and whether its lock is held, which only it knows (a worker in
    /// a crash loop reports nothing), and the worker the rest (updates, polls, handler
    /// times); `/metrics` shows both (``PrometheusText``).
    enum Share {
        /// Every metric: the bot runs in this process, and no supervisor watches it.
        case all
        case supervisor
        case worker

        /// Whether this process writes a family that the supervisor keeps (`supervised`)
        /// or one that the worker keeps.
        func writes(supervised: Bool) -> Bool {
            switch self {
            case .all: true
            case .supervisor: supervised
            case .worker: !supervised
            }
        }
    }

    private struct Samples {
        var state = BotState.starting
        var counters = [Int](repeating: 0, count: Counter.allCases.count)
        var gauges = [Int](repeating: 0, count: Gauge.allCases.count)
        var histograms: [Histogram: Observations] = [:]
    }

    /// One histogram's samples: how many fell at or below each bound (not cumulative), all
    /// of them, and their sum in seconds.
    private struct Observations {
        var inBucket = [Int](repeating: 0, count: Histogram.bounds.count)
        var count = 0
        var sum = 0.0

        /// Counts a sample of `seconds`, in `bucket` unless it is past every bound.
        mutating func add(_ seconds: Double, in bucket: Int?) {
            if let bucket { inBucket[bucket] += 1 }
            count += 1
            sum += seconds
        }
    }

    let bot: String
    let share: Share
    private let samples = Mutex(Samples())

    /// - Parameter bot: the bot's name, which needs no escaping in a label (a manifest's
    ///   names are `a-z`, `0-9`, `_` and `-`).
    init(bot: String, share: Share = .all) {
        self.bot = bot
        self.share = share
    }

    func increment(_ counter: Counter, by amount: Int = 1) {
        samples.withLock { $0.counters[counter.rawValue] += amount }
    }

    func set(_ gauge: Gauge, to value: Int) {
        samples.withLock { $0.gauges[gauge.rawValue] = value }
    }

    func observe(_ histogram: Histogram, _ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let bucket = Histogram.bounds.firstIndex { seconds <= $0 }
        samples.withLock { $0.histograms[histogram, default: Observations()].add(seconds, in: bucket) }
    }

    /// Makes `state` the bot's state: `bothost_bot_state` is 1 for it and 0 for the others.
    func show(_ state: BotState) {
        samples.withLock { $0.state = state }
    }

    /// Prometheus's text format for `bots`, each family once with its `# TYPE` line and
    /// the samples of the bots whose ``share`` writes it.
    static func text(of bots: [BotMetrics]) -> String {
        let all = bots.map { bot in (bot: bot, samples: bot.samples.withLock { $0 }) }
        var text = ""
        func write(_ name: String, _ type: String, supervised: Bool, _ lines: (String, Samples) -> String) {
            let shown = all.filter { $0.bot.share.writes(supervised: supervised) }
            guard !shown.isEmpty else { return }
            text += "# TYPE \(name) \(type)\n"
            for (bot, samples) in shown { text += lines("bot=\"\(bot.bot)\"", samples) }
        }
        write("bothost_bot_state", "gauge", supervised: true) { label, samples in
            BotState.allCases.map { state in
                "bothost_bot_state{\(label),state=\"\(state.rawValue)\"} \(state == samples.state ? 1 : 0)\n"
            }.joined()
        }
        for gauge in Gauge.allCases {
            write(gauge.name, "gauge", supervised: gauge == .lockHeld) { label, samples in
                "\(gauge.name){\(label)} \(samples.gauges[gauge.rawValue])\n"
            }
        }
        for counter in Counter.allCases {
            write(counter.name, "counter", supervised: false) { label, samples in
                "\(counter.name){\(label)} \(samples.counters[counter.rawValue])\n"
            }
        }
        for histogram in Histogram.allCases {
            write(histogram.name, "histogram", supervised: false) { label, samples in
                let observations = samples.histograms[histogram] ?? Observations()
                var lines = ""
                var cumulative = 0
                for (bound, count) in zip(Histogram.bounds, observations.inBucket) {
                    cumulative += count
                    lines += "\(histogram.name)_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
                }
                lines += "\(histogram.name)_bucket{\(label),le=\"+Inf\"} \(observations.count)\n"
                lines += "\(histogram.name)_sum{\(label)} \(observations.sum)\n"
                lines += "\(histogram.name)_count{\(label)} \(observations.count)\n"
                return lines
            }
        }
        return text
    }
}
