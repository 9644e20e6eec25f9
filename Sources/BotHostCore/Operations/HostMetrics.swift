import Prometheus
import Synchronization

/// A host's Prometheus metrics: the host's own registry, and its bots' metrics
/// (``BotMetrics``), written out together (``text()``).
final class HostMetrics: Sendable {
    /// The host's own metrics, such as the webhook listener's.
    let host = PrometheusCollectorRegistry()
    /// The bots' metrics, held weakly: a bot that a reload removed leaves `/metrics` with
    /// its runtime.
    private let bots = Mutex<[WeakBotMetrics]>([])

    private struct WeakBotMetrics {
        weak var metrics: BotMetrics?
    }

    /// Makes the metrics of a bot, kept as `share` says, which ``text()`` writes out from
    /// now on.
    func forNewBot(_ bot: String, share: BotMetrics.Share) -> BotMetrics {
        let metrics = BotMetrics(bot: bot, share: share)
        bots.withLock { $0.append(WeakBotMetrics(metrics: metrics)) }
        return metrics
    }

    /// Every metric in Prometheus's text format: the host's registry, then the bots'
    /// families. Asked for by `/metrics` (and, in a worker, by its supervisor for that).
    func text() -> String {
        var buffer: [UInt8] = []
        host.emit(into: &buffer)
        let bots = bots.withLock { bots in
            bots.removeAll { $0.metrics == nil }
            return bots.compactMap(\.metrics)
        }
        return String(decoding: buffer, as: UTF8.self) + BotMetrics.text(of: bots)
    }
}
