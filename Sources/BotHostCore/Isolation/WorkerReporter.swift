import BotHostKit
import Foundation
import Synchronization

/// Tells the supervisor what changed in a worker: soon after a bot's status changes (at
/// most every 20 ms), the bots whose status changed since the last report, and at most once
/// a second the metrics, if they changed. Nothing is sent, and nothing runs, while nothing
/// changes, but for a look at the metrics every 5 s.
final class WorkerReporter: Sendable {
    private let link: SupervisorLink
    private let sent = Mutex(Sent())
    private let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    private struct Sent {
        /// The worker's host, once the first assignment started it.
        var host: Host?
        var bots: [String: BotStatus.Snapshot] = [:]
        var metrics: String?
        var metricsAt = ContinuousClock.now - .seconds(1)
        /// Bots refused by the worker itself (``Worker``), each reported once.
        var refused: [String: BotStatus.Snapshot] = [:]
    }

    init(link: SupervisorLink) {
        self.link = link
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a report soon: for ``HostEnvironment/onStatusChange``.
    func statusChanged() {
        changed.yield()
    }

    /// Reports on `host`'s bots from now on.
    func attach(_ host: Host) {
        sent.withLock { $0.host = host }
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while (try? await Task.sleep(for: .seconds(5))) != nil { self.changed.yield() }
            }
            for await _ in changes {
                report()
                try? await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
    }

    /// Reports `name` as failed with `reason` (`summary` in a few words): a bot the worker
    /// cannot run.
    func refuse(_ name: String, summary: String, reason: String) {
        var snapshot = BotStatus.Snapshot()
        snapshot.state = .failed
        snapshot.failure = summary
        snapshot.lastError = reason
        sent.withLock { $0.refused[name] = snapshot }
    }

    /// Sends what changed since the last report, if anything did.
    func report() {
        let host = sent.withLock { $0.host }
        let current = host?.botStatuses ?? [:]
        let metrics = host.flatMap(metricsIfDue)
        let report = sent.withLock { sent -> WorkerReport? in
            var changed = current.filter { sent.bots[$0.key] != $0.value }
            // A bot that a reload removed has stopped, even when its last state went unseen.
            for (name, last) in sent.bots where current[name] == nil && ![.stopped, .failed].contains(last.state) {
                var stopped = last
                stopped.state = .stopped
                changed[name] = stopped
            }
            changed.merge(sent.refused) { running, _ in running }
            sent.refused = [:]
            sent.bots = current
            guard !changed.isEmpty || metrics != nil else { return nil }
            return WorkerReport(bots: changed, metrics: metrics)
        }
        if let report { link.send(report) }
    }

    /// The metrics, when a second has passed since they were last sent and they changed.
    private func metricsIfDue(of host: Host) -> String? {
        guard sent.withLock({ ContinuousClock.now - $0.metricsAt >= .seconds(1) }) else { return nil }
        let text = host.metrics.text()
        return sent.withLock { sent in
            sent.metricsAt = .now
            guard text != sent.metrics else { return nil }
            sent.metrics = text
            return text
        }
    }
}
