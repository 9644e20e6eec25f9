import Logging

/// A supervisor's bot: its lock is held here, its plugin runs in a worker process.
extension BotRuntime {
    /// Runs the bot in a worker until it ends there, a stop is requested, or the lock is
    /// lost; in the last two cases the worker is asked to stop the bot, and its end is
    /// awaited before the lock is released, so that no moment has two pollers.
    ///
    /// The bot's run in the worker is awaited in this task, and the lock is watched with a
    /// callback (``HeldTokenLock/onLoss(_:)``), not a task: a supervisor keeps one such run
    /// for each of thousands of bots.
    // Never inlined into ``run(lock:claims:)``, which a worker's bots run too.
    @inline(never)
    func runInWorker(_ workers: WorkerPool, holding held: any HeldTokenLock) async -> Ending {
        let loss = watchLock(held, stopping: workers)
        let outcome = await workers.run(
            configuration.name, isolated: configuration.isolated, lock: held.id, status: status
        ) { [self] in
            isEnding || loss.isNoted
        }
        // The watch ends before the lock is released, which it would otherwise report as lost.
        return ending(outcome, loss: loss.end())
    }

    /// Watches the bot's lock: a loss takes the bot away from its worker, which is told
    /// that the lock was lost. Apart from ``runInWorker(_:holding:)``, whose async frame each bot of a supervisor
    /// keeps all its life.
    @inline(never)
    private func watchLock(_ held: any HeldTokenLock, stopping workers: WorkerPool) -> LockLossNote {
        let name = configuration.name
        onStop { workers.remove(name) }
        let note = LockLossNote()
        note.watch(
            held.onLoss { [logger] reason in
                guard note.note(reason) else { return }
                logger.error("lock lost: \(reason); stopping the bot in its worker")
                workers.remove(name, lockLost: true)
            })
        return note
    }
}
