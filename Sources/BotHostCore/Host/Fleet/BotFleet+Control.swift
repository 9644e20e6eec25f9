import BotHostKit
import Synchronization

/// What the control API asks of single bots: pause, resume, restart, and a look into
/// the journal for dead letters handed back.
///
/// Under a supervisor the bots' plugins run in worker processes: a pause or a restart is
/// passed on to the bot's worker in its next ``WorkerAssignment``, which a worker applies
/// to its own fleet (``usePaused(_:)``, ``restart(_:)``, ``wakeJournal(of:)``). A failed bot, in a worker or
/// not, has no run left to restart: it starts afresh, its lock claimed again, as a
/// reload starts it.
extension BotFleet {
    /// Why a control request was not done.
    enum ControlRefusal: Error, Equatable {
        case unknownBot
        /// The bot is in a state that the request cannot change.
        case notRunning(BotState)
    }

    /// Pauses (`true`) or resumes (`false`) the polling of `name`; a paused bot keeps its
    /// lock and its fetched updates, and sends no `getUpdates`.
    func setPaused(_ name: String, _ paused: Bool) throws(ControlRefusal) {
        let runtime = try state.withLock { state throws(ControlRefusal) -> BotRuntime in
            let runtime = try Self.runtime(named: name, in: state)
            let current = runtime.status.state
            guard ![.failed, .stopped].contains(current) else { throw .notRunning(current) }
            if paused { state.paused.insert(name) } else { state.paused.remove(name) }
            return runtime
        }
        runtime.pause.set(paused: paused)
        if paused { suspects.caughtUp(name) }
        workers?.setPaused(name, paused)
    }

    /// The bots to keep paused, as a worker's assignment lists them.
    func usePaused(_ names: Set<String>) {
        let runtimes = state.withLock { state in
            state.paused = names
            return state.runtimes
        }
        for runtime in runtimes { runtime.pause.set(paused: names.contains(runtime.configuration.name)) }
        // A paused bot does not poll, so it does not catch up.
        for name in names { suspects.caughtUp(name) }
    }

    /// Runs the stop sequence of `name` (hooks included) and starts it again, its lock
    /// kept; a failed bot starts afresh. Returns once the restart is under way.
    func restart(_ name: String) async throws(ControlRefusal) {
        enum Plan {
            case inPlace(BotRuntime)
            case afresh(BotConfiguration)
        }
        let plan = try state.withLock { state throws(ControlRefusal) -> Plan in
            let runtime = try Self.runtime(named: name, in: state)
            switch runtime.status.state {
            case .failed:
                guard state.stopRequestedAt == nil, state.launcher != nil else { throw .notRunning(.failed) }
                state.reloading += 1
                state.runtimes.removeAll { $0 === runtime }
                state.failures -= 1
                return .afresh(runtime.configuration)
            case let current where [.standby, .stopped, .stopping].contains(current):
                throw .notRunning(current)
            default:
                return .inPlace(runtime)
            }
        }
        switch plan {
        case .inPlace(let runtime):
            let restarting = workers.map { $0.restart(name) } ?? runtime.requestRestart()
            guard restarting else { throw .notRunning(runtime.status.state) }
        case .afresh(let bot):
            await start(bot, onLocked: manifest.onLocked, shutdown: manifest.shutdown, cause: "restart")
            state.withLock { $0.reloading -= 1 }
            finishIfIdle()
        }
    }

    /// Has `name` look into its journal at once, for the dead letters the operator handed
    /// back; a bot not running looks when it starts.
    func wakeJournal(of name: String) {
        let runtime = state.withLock { state in state.runtimes.first { $0.configuration.name == name } }
        if let runtime { environment.journalHousekeeping.checkSoon(runtime.configuration.lockID) }
        workers?.wakeJournal(of: name)
    }

    private static func runtime(named name: String, in state: State) throws(ControlRefusal) -> BotRuntime {
        if let runtime = state.runtimes.first(where: { $0.configuration.name == name }) { return runtime }
        throw state.skipped.contains(name) ? .notRunning(.skipped) : .unknownBot
    }
}

extension BotFleet {
    /// One bot the fleet runs, as the control API lists it.
    struct Listed {
        var bot: BotConfiguration
        var snapshot: BotStatus.Snapshot
        var paused: Bool
    }

    /// The bots the fleet runs, in the order they started, and those left to other hosts.
    func listing() -> (running: [Listed], skipped: [BotConfiguration]) {
        let (runtimes, skipped, paused) = state.withLock { ($0.runtimes, $0.skipped, $0.paused) }
        let running = runtimes.map { runtime in
            Listed(
                bot: runtime.configuration, snapshot: runtime.status.current,
                paused: paused.contains(runtime.configuration.name))
        }
        return (running, manifest.bots.filter { skipped.contains($0.name) })
    }
}
