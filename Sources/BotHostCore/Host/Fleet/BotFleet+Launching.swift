import BotHostKit
import Synchronization

/// Starting and ending the bots' runtimes, at start-up and on reload.
extension BotFleet {
    /// The base URL of `bot`'s Bot API server.
    func apiURL(of bot: BotConfiguration) -> String {
        switch bot.apiURL {
        case .url(let url): url
        case .sandbox: state.withLock { $0.sandboxURL } ?? ""
        }
    }

    func makeRuntime(for bot: BotConfiguration, shutdown: ShutdownSettings) -> BotRuntime {
        BotRuntime(
            configuration: bot, plugin: plugins[bot.plugin]!, apiURL: apiURL(of: bot), connections: apiConnections,
            journals: journals,
            suspects: suspects, workers: workers, shutdown: shutdown,
            environment: environment,
            metrics: metrics.forNewBot(bot.name, share: workers != nil ? .supervisor : inWorker ? .worker : .all),
            paused: state.withLock { $0.paused.contains(bot.name) })
    }

    /// Claims the lock of a bot started after start-up (a reload, a restart of a failed
    /// bot) and starts it; a held lock never stops the host here. `cause` begins the log
    /// lines: `reload`.
    func start(_ bot: BotConfiguration, onLocked: OnLocked, shutdown: ShutdownSettings, cause: String) async {
        switch await claims.claim(bot, onLocked: onLocked) {
        case .acquired(let lock):
            await launch(makeRuntime(for: bot, shutdown: shutdown), lock: lock)
        case .standBy:
            await launch(makeRuntime(for: bot, shutdown: shutdown), lock: nil)
        case .skipped(let reason), .refused(let reason):
            logger.warning("\(cause): not started: \(reason)", metadata: ["bot": "\(bot.name)"])
            state.withLock { $0.skipped.append(bot.name) }
        case .failed(let error):
            logger.error("\(cause): cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
        }
    }

    /// Starts `runtime` in ``runBots()``'s task group, or releases `lock` if the fleet is stopping.
    func launch(_ runtime: BotRuntime, lock: (any HeldTokenLock)?) async {
        let name = runtime.configuration.name
        let (launcher, paused) = state.withLock { state -> (AsyncStream<Launch>.Continuation?, Bool) in
            guard state.stopRequestedAt == nil, let launcher = state.launcher else { return (nil, false) }
            state.running += 1
            state.runtimes.append(runtime)
            return (launcher, state.paused.contains(name))
        }
        guard let launcher else {
            if let lock { await claims.release(lock) }
            return
        }
        // Bots that poll in this process, once started: not a standby's or a paused one's.
        if workers == nil, lock != nil, !paused { suspects.catchingUp(name) }
        launcher.yield(Launch(runtime: runtime, lock: lock))
    }

    func ended(_ runtime: BotRuntime, _ outcome: BotRuntime.Outcome) {
        suspects.caughtUp(runtime.configuration.name)
        state.withLock { state in
            state.running -= 1
            if case .failed = outcome { state.failures += 1 }
        }
        finishIfIdle()
    }

    /// Ends ``runBots()``'s task group once no bot runs and no reload is adding one; in a
    /// worker, only once a stop was requested too.
    func finishIfIdle() {
        let launcher = state.withLock { state -> AsyncStream<Launch>.Continuation? in
            guard state.running == 0, state.reloading == 0, !inWorker || state.stopRequestedAt != nil else { return nil }
            return state.launcher.take()
        }
        launcher?.finish()
    }
}
