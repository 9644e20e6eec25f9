import Prometheus
import Synchronization

/// A host's Prometheus metrics: the host's own registry, and its bots' metrics
/// (``BotMetrics``), written out together (``text()``).
final class HostMetrics: Sendable {
    /// The host's own metrics, such as the webhook listener's.
    let host = PrometheusCollectorRegistry()
    /// The bots' metrics by name, held weakly: a bot leaves `/metrics` with its runtime
    /// (a reload removed it, or in a worker, it ended or moved to another worker), and a
    /// runtime that replaces another of the same name (a reload changed the bot) takes its
    /// place at once, while the old one may still be stopping.
    private let bots = Mutex<[String: WeakBotMetrics]>([:])

    private struct WeakBotMetrics {
        weak var metrics: BotMetrics?
    }

    /// Makes the metrics of a bot, kept as `share` says, which ``text()`` writes out from
    /// now on.
    func forNewBot(_ bot: String, share: BotMetrics.Share) -> BotMetrics {
        let metrics = BotMetrics(bot: bot, share: share)
        bots.withLock { $0[bot] = WeakBotMetrics(metrics: metrics) }
        return metrics
    }

    /// Every metric in Prometheus's text format: the host's registry, then the bots'
    /// families. Asked for by `/metrics` (and, in a worker, by its supervisor for that).
    func text() -> String {
        var buffer: [UInt8] = []
        host.emit(into: &buffer)
        let bots = bots.withLock { bots in
            bots = bots.filter { $0.value.metrics != nil }
            return bots.keys.sorted().compactMap { bots[$0]?.metrics }
        }
        return String(decoding: buffer, as: UTF8.self) + BotMetrics.text(of: bots)
    }
}
