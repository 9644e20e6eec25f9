import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TelegramBotAPI

/// The worker processes of a supervisor (`isolation: { mode: process }`), and which bots
/// each runs.
///
/// Bots share `isolation.workers` processes, each new bot going to the least busy one; an
/// `isolated: true` bot gets a process of its own. A service of the host's group, started
/// before the fleet and stopped after it: ``run()`` keeps each ``WorkerSlot`` running
/// until the fleet's stop has ended every worker.
final class WorkerPool: Service, WebhookDeliveryTarget {
    let launcher: WorkerLauncher
    /// `shutdown.timeout`: the most a stop of the workers may take.
    private let stopTimeout: Duration
    private let logger: Logger
    private let state: Mutex<State>
    /// Slots to start, for ``run()``.
    private let starts: AsyncStream<WorkerSlot>
    private let starter: AsyncStream<WorkerSlot>.Continuation

    private struct State {
        var settings: IsolationSettings
        var manifestFile: String
        var manifestText: String
        /// One more each time the supervisor read the manifest (``use(_:)``).
        var manifestRevision = 1
        var sandboxURL: String?
        /// Every slot started, shared and isolated, in start order.
        var slots: [WorkerSlot] = []
        /// Where each bot runs.
        var placement: [String: WorkerSlot] = [:]
        /// The bots the operator paused, and how often each was restarted.
        var paused: Set<String> = []
        var restarts: [String: Int] = [:]
        /// How often each bot's dead letters were handed back.
        var journalWakeups: [String: Int] = [:]
        var stopping = false
    }

    init(launcher: WorkerLauncher, manifest: Manifest, logger: Logger) {
        self.launcher = launcher
        self.stopTimeout = manifest.shutdown.timeout
        self.logger = logger
        state = Mutex(State(settings: manifest.isolation, manifestFile: manifest.file, manifestText: manifest.text))
        (starts, starter) = AsyncStream<WorkerSlot>.makeStream()
    }

    var settings: IsolationSettings { state.withLock { $0.settings } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Runs every slot started, until a graceful shutdown (after the fleet's) or a
    /// cancellation stops the workers and they have exited.
    ///
    /// Workers stopped by the fleet (``stop()``) exit before the fleet has ended; the pool
    /// then waits for its own turn to shut down, as a service group ending gracefully
    /// cancels every service when one ends before its turn.
    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await slot in self.starts {
                    group.addTask { await slot.run() }
                }
            }
        } onGracefulShutdown: {
            self.stop()
        }
        try? await gracefulShutdown()
    }

    /// The manifest that workers read from now on (a reload); the number of workers and
    /// their restart limits change only with a restart.
    func use(_ manifest: Manifest) {
        let changed = state.withLock { state in
            state.manifestFile = manifest.file
            state.manifestText = manifest.text
            state.manifestRevision += 1
            return manifest.isolation != state.settings
        }
        if changed { logger.warning("reload: changes to isolation take effect after a restart") }
    }

    /// The sandbox emulator's URL, once it listens.
    func use(sandboxURL: String?) {
        state.withLock { $0.sandboxURL = sandboxURL }
    }

    /// What a worker that runs `bots` (name to lock id) is sent; `lostLocks` are the lock
    /// ids of the bots it loses because their locks were lost.
    func assignment(bots: [String: String], lostLocks: Set<String>) -> WorkerAssignment {
        state.withLock { state in
            WorkerAssignment(
                manifestFile: state.manifestFile, manifestText: state.manifestText, manifestRevision: state.manifestRevision,
                bots: bots, lostLocks: lostLocks, sandboxURL: state.sandboxURL,
                paused: state.paused.filter { bots[$0] != nil },
                restarts: Self.counts(state.restarts, of: bots), journalWakeups: Self.counts(state.journalWakeups, of: bots))
        }
    }

    /// Pauses or resumes `name` in its worker, and in any worker it runs in later.
    func setPaused(_ name: String, _ paused: Bool) {
        let slot = state.withLock { state in
            if paused { state.paused.insert(name) } else { state.paused.remove(name) }
            return state.placement[name]
        }
        slot?.reassign()
    }

    /// Has the worker of `name` look into the bot's journal at once.
    func wakeJournal(of name: String) {
        let slot = state.withLock { state -> WorkerSlot? in
            guard let slot = state.placement[name] else { return nil }
            state.journalWakeups[name, default: 0] += 1
            return slot
        }
        slot?.reassign()
    }

    /// `counts` of the bots a worker runs, 0 for those not counted yet.
    private static func counts(_ counts: [String: Int], of bots: [String: String]) -> [String: Int] {
        bots.mapValues { _ in 0 }.merging(counts.filter { bots[$0.key] != nil }) { $1 }
    }

    /// Has the worker of `name` run the bot's stop sequence and start it again; `false`
    /// when no worker runs it.
    func restart(_ name: String) -> Bool {
        let slot = state.withLock { state -> WorkerSlot? in
            guard let slot = state.placement[name] else { return nil }
            state.restarts[name, default: 0] += 1
            return slot
        }
        slot?.reassign()
        return slot != nil
    }

    /// Runs the bot `name` in a worker (one of its own when `isolated`) until it ends there,
    /// it is removed (``remove(_:lockLost:)``), or its worker's crash loop fails it; `.stopped` at once
    /// when the pool is stopping. A bot removed before it reached its worker is removed there
    /// as soon as `ending` says so.
    ///
    /// Takes the bot's name, not its configuration: each bot of a supervisor awaits this for
    /// its whole life, and an argument of an async call stays in the caller's frame meanwhile.
    func run(
        _ name: String, isolated: Bool, lock: LockID, status: BotStatus, endingIf ending: @Sendable () -> Bool
    ) async -> BotRuntime.Outcome {
        while let slot = place(name, isolated: isolated) {
            if let outcome = await slot.run(name, lock: lock, status: status, endingIf: ending) {
                state.withLock { state in
                    if state.placement[name] === slot { state.placement[name] = nil }
                }
                return outcome
            }
        }
        return .stopped
    }

    /// Stops `name` in its worker; its ``run(_:isolated:lock:status:endingIf:)`` returns once it
    /// has stopped. `lockLost`: because its lock was lost, which the worker is told.
    func remove(_ name: String, lockLost: Bool = false) {
        state.withLock { $0.placement[name] }?.remove(name, lockLost: lockLost)
    }

    /// Stops every worker gracefully (SIGTERM), and kills those still running at 90% of
    /// `shutdown.timeout`, so that the supervisor can release the locks and exit within it.
    func stop() {
        let slots = state.withLock { state -> [WorkerSlot]? in
            guard !state.stopping else { return nil }
            state.stopping = true
            return state.slots
        }
        guard let slots else { return }
        starter.finish()
        for slot in slots { slot.signal(SIGTERM) }
        Task { [logger] in
            try? await Task.sleep(for: self.stopTimeout * 0.9)
            for slot in slots where slot.pid != nil {
                logger.error("worker \(slot.index) did not stop within shutdown.timeout: killing it")
                slot.signal(SIGKILL)
            }
        }
    }

    /// Forwards a webhook delivery to the worker that runs `bot`: the listener runs in the
    /// supervisor, the bot's journal and plugin in the worker.
    func deliver(_ update: Update, to bot: WebhookBot) async -> WebhookAnswer {
        guard let slot = state.withLock({ $0.placement[bot.name] }) else { return .unavailable }
        return await slot.deliver(update, lock: bot.lockID)
    }

    /// Every running worker's metrics, in Prometheus text format, asked for at once.
    func metrics() async -> [String] {
        let slots = state.withLock { $0.slots }
        return await withTaskGroup(of: String?.self) { group in
            for slot in slots { group.addTask { await slot.metrics } }
            return await group.reduce(into: []) { texts, text in text.map { texts.append($0) } }
        }
    }

    /// The slot the bot `name` runs in from now on: its own when `isolated`, otherwise the
    /// least busy of `workers` shared ones; `nil` when the pool is stopping.
    private func place(_ name: String, isolated: Bool) -> WorkerSlot? {
        let (slot, isNew) = state.withLock { state -> (WorkerSlot?, Bool) in
            guard !state.stopping else { return (nil, false) }
            let shared = state.slots.filter { !$0.isolated && !$0.hasEnded }
            if !isolated, shared.count >= state.settings.workers, let least = shared.min(by: { $0.load < $1.load }) {
                state.placement[name] = least
                return (least, false)
            }
            let slot = WorkerSlot(index: state.slots.count + 1, isolated: isolated, pool: self, logger: logger)
            state.slots.append(slot)
            state.placement[name] = slot
            return (slot, true)
        }
        if let slot, isNew { starter.yield(slot) }
        return slot
    }
}
