import Logging
import Synchronization

/// A supervisor's bot: its lock is held here, its plugin runs in a worker process.
extension BotRuntime {
    /// Runs the bot in a worker until it ends there, a stop is requested, or the lock is
    /// lost; in the last two cases the worker is asked to stop the bot, and its end is
    /// awaited before the lock is released, so that no moment has two pollers.
    ///
    /// The bot's run in the worker is awaited in this task; only the watch of the lock has a
    /// task of its own, as a supervisor keeps one such run for each of thousands of bots.
    func runInWorker(_ workers: WorkerPool, holding held: any HeldTokenLock) async -> Ending {
        let name = configuration.name
        let lost = Mutex<LockLossReason?>(nil)
        // Owned by this run: cancelled once the bot has ended in its worker.
        let watch = Task { [logger] in
            guard let reason = try? await held.lost() else { return }
            logger.error("lock lost: \(reason); stopping the bot in its worker")
            lost.withLock { $0 = reason }
            workers.remove(name)
        }
        onStop { workers.remove(name) }
        let outcome = await workers.run(configuration, lock: held.id, status: status)
        // Ended before the lock is released, which it would otherwise report as lost.
        watch.cancel()
        await watch.value
        guard let reason = lost.withLock({ $0 }), !isStopRequested else { return .outcome(outcome) }
        return .lockLost(reason)
    }
}
