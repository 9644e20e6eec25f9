/// One line of JSON on a worker's standard input: a new ``WorkerAssignment``, a webhook
/// delivery that the supervisor's listener took for one of the worker's bots, or a request
/// for the worker's metrics.
enum SupervisorMessage: Codable, Sendable {
    case assign(WorkerAssignment)
    case deliver(ForwardedDelivery)
    /// The supervisor's `/metrics` was asked for: the worker answers at once with a
    /// ``WorkerReport/metrics`` of the same `id`. Asked, not sent unasked every second, so
    /// that a worker of thousands of idle bots does not render their metrics for nobody.
    case collectMetrics(id: UInt64)
}

/// A webhook delivery on its way from the supervisor's listener to the worker that runs
/// the bot. The worker commits it to the bot's journal and reports a
/// ``ForwardedDelivery/Answer`` with the same `id`; only then does the listener answer
/// Telegram.
struct ForwardedDelivery: Codable, Sendable {
    /// The supervisor's number for the delivery, unique per worker process.
    var id: UInt64
    /// The bot's lock id (hex).
    var bot: String
    /// The update as Telegram sent it, checked to be one.
    var update: String

    struct Answer: Codable, Sendable {
        var id: UInt64
        var answer: WebhookAnswer
    }
}

/// A worker's metrics in Prometheus text format, the answer to
/// ``SupervisorMessage/collectMetrics(id:)`` with the same `id`.
struct CollectedMetrics: Codable, Sendable {
    var id: UInt64
    var text: String
}
