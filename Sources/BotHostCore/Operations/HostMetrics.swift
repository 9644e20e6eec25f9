import Prometheus
import Synchronization

/// A host's Prometheus metrics: the host's own registry, and its bots' metrics in registries
/// of at most ``botsPerRegistry`` bots each, written out together (``text()``).
///
/// Why not one registry for all: swift-prometheus keeps each metric's label sets in a
/// dictionary that it copies whole every time a new label set (a new bot) is added to it.
/// With one registry a worker starting 500 bots copied about 580 MB in all (freed again)
/// and spent its start doing so; with small registries each copy stays small.
final class HostMetrics: Sendable {
    /// The bots whose metrics share one registry: enough that registries are few, few
    /// enough that the copies stay cheap.
    static let botsPerRegistry = 32

    /// The host's own metrics, such as the webhook listener's.
    let host = PrometheusCollectorRegistry()
    private let bots = Mutex<(registries: [PrometheusCollectorRegistry], inLast: Int)>(([], 0))

    /// The registry for a bot's metrics from now on.
    func registryForNewBot() -> PrometheusCollectorRegistry {
        bots.withLock { bots in
            if let last = bots.registries.last, bots.inLast < Self.botsPerRegistry {
                bots.inLast += 1
                return last
            }
            let registry = PrometheusCollectorRegistry()
            bots.registries.append(registry)
            bots.inLast = 1
            return registry
        }
    }

    /// Every metric in Prometheus's text format, registry after registry: a family appears
    /// once per registry, so what shows it puts it together first (``PrometheusText``).
    /// Written every second while the bots are busy, to be sent to the supervisor, it is
    /// left unmerged until someone asks for `/metrics`.
    func text() -> String {
        let registries = [host] + bots.withLock { $0.registries }
        var buffer: [UInt8] = []
        for registry in registries { registry.emit(into: &buffer) }
        return String(decoding: buffer, as: UTF8.self)
    }
}
