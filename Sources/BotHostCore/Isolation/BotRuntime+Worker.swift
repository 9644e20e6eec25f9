import Logging

/// A supervisor's bot: its lock is held here, its plugin runs in a worker process.
extension BotRuntime {
    /// Runs the bot in a worker until it ends there, a stop is requested, or the lock is
    /// lost; in the last two cases the worker is asked to stop the bot, and its end is
    /// awaited before the lock is released, so that no moment has two pollers.
    func runInWorker(_ workers: WorkerPool, holding held: any HeldTokenLock) async -> Ending {
        enum Event: Sendable {
            case ended(Outcome)
            /// The lock was lost; `nil` when the watch was cancelled instead.
            case lockLost(LockLossReason?)
        }
        let name = configuration.name
        return await withTaskGroup(of: Event.self) { group in
            group.addTask { [configuration, status] in
                .ended(await workers.run(configuration, lock: held.id, status: status))
            }
            group.addTask { [logger] in
                guard let reason = try? await held.lost() else { return .lockLost(nil) }
                logger.error("lock lost: \(reason); stopping the bot in its worker")
                return .lockLost(reason)
            }
            onStop { workers.remove(name) }
            defer { group.cancelAll() }
            var lost: LockLossReason?
            while let event = await group.next() {
                switch event {
                case .ended(let outcome):
                    guard let lost, !isStopRequested else { return .outcome(outcome) }
                    return .lockLost(lost)
                case .lockLost(let reason?):
                    lost = reason
                    workers.remove(name)
                case .lockLost(nil):
                    continue
                }
            }
            return .outcome(.stopped)
        }
    }
}
