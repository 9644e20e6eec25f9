import BotHostKit
import Synchronization

/// Tells the supervisor what changed in a worker: soon after a bot's status changes (at
/// most every 20 ms), the bots whose status changed since the last report. Nothing is sent,
/// and nothing runs, while nothing changes; the metrics go only when the supervisor asks
/// for them (``SupervisorMessage/collectMetrics(id:)``).
///
/// A report reads only the bots that changed, so a worker of thousands of bots, a few of
/// them busy, does not compare thousands of statuses every 20 ms.
final class WorkerReporter: Sendable {
    private let link: SupervisorLink
    private let pending = Mutex(Pending())
    private let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    private struct Pending {
        /// The bots whose status changed since the last report, by name.
        var changed: [String: BotStatus] = [:]
        /// Bots refused by the worker itself (``Worker``), each reported once.
        var refused: [String: BotStatus.Snapshot] = [:]
    }

    init(link: SupervisorLink) {
        self.link = link
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a report of `status` soon: for ``HostEnvironment/onStatusChange``.
    func statusChanged(_ status: BotStatus) {
        pending.withLock { $0.changed[status.name] = status }
        changed.yield()
    }

    func run() async {
        for await _ in changes {
            report()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Reports `name` as failed with `reason` (`summary` in a few words): a bot the worker
    /// cannot run.
    func refuse(_ name: String, summary: String, reason: String) {
        var snapshot = BotStatus.Snapshot()
        snapshot.state = .failed
        snapshot.failure = summary
        snapshot.lastError = reason
        pending.withLock { $0.refused[name] = snapshot }
        changed.yield()
    }

    /// Sends the statuses that changed since the last report, if any did.
    func report() {
        let (changed, refused) = pending.withLock { pending in
            defer { pending = Pending() }
            return (pending.changed, pending.refused)
        }
        let bots = changed.mapValues(\.current).merging(refused) { running, _ in running }
        guard !bots.isEmpty else { return }
        link.send(WorkerReport(bots: bots))
    }

    /// Answers the supervisor's request `id` with `host`'s metrics.
    func sendMetrics(of host: Host, id: UInt64) {
        link.send(WorkerReport(bots: [:], metrics: CollectedMetrics(id: id, text: host.metrics.text())))
    }
}
