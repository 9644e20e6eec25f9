import BotHostKit
import Logging
import Synchronization

extension BotFleet {
    /// Applies a new manifest without a restart (SIGHUP): bots that are new start, bots
    /// that are gone stop gracefully (hooks, offset, lock), bots whose settings changed
    /// restart, and the rest are not disturbed: their polls go on.
    ///
    /// Only `bots` (with `defaults`) is reloaded; changes to `lock`, `api_url: sandbox`,
    /// `admin` or `shutdown` need a restart and are reported as such. Returns `false`, having
    /// done nothing, while the fleet is still starting or already stopping.
    @discardableResult
    func reload(_ new: Manifest) async -> Bool {
        let reloading = state.withLock { state -> (current: [BotRuntime], failed: Set<String>)? in
            guard state.stopRequestedAt == nil, state.launched, state.launcher != nil else { return nil }
            state.reloading += 1
            // Bots that failed start afresh if the new manifest still has them (it may have
            // fixed their token); either way their failure no longer counts.
            let failed = state.runtimes.filter { $0.status.state == .failed }
            state.runtimes.removeAll { $0.status.state == .failed }
            state.failures -= failed.count
            return (state.runtimes.filter { $0.status.state != .stopped }, Set(failed.map(\.configuration.name)))
        }
        guard let (current, failed) = reloading else { return false }
        defer {
            state.withLock { $0.reloading -= 1 }
            finishIfIdle()
        }
        if new.lock != manifest.lock || new.admin != manifest.admin || new.shutdown != manifest.shutdown {
            logger.warning("reload: changes to lock, admin and shutdown take effect after a restart")
        }
        let wanted = Dictionary(new.bots.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let running = Dictionary(current.map { ($0.configuration.name, $0) }, uniquingKeysWith: { first, _ in first })
        let removed = current.filter { wanted[$0.configuration.name] == nil }
        let changed = current.filter { runtime in
            wanted[runtime.configuration.name].map { !$0.isSameDeployment(as: runtime.configuration) } ?? false
        }
        let retiring = removed + changed
        for runtime in retiring { runtime.requestStop() }
        for runtime in retiring { await runtime.status.waitUntilEnded() }
        state.withLock { state in
            state.runtimes.removeAll { runtime in retiring.contains { $0 === runtime } }
            state.skipped.removeAll { wanted[$0] != nil }
        }
        let added = new.bots.filter { running[$0.name] == nil }
        let restarted = new.bots.filter { bot in changed.contains { $0.configuration.name == bot.name } }
        for bot in (added + restarted).sorted(by: { $0.lockID < $1.lockID }) {
            await start(bot, onLocked: new.onLocked, shutdown: new.shutdown)
        }
        let unchanged = current.count - retiring.count
        let retried = added.filter { failed.contains($0.name) }.count
        if !inWorker {
            logger.info(
                "reload: \(added.count - retried) added, \(removed.count) removed, \(changed.count + retried) restarted, \(unchanged) unchanged"
            )
        }
        return true
    }

    /// Claims a reloaded bot's lock and starts it; a held lock never stops the host here.
    private func start(_ bot: BotConfiguration, onLocked: OnLocked, shutdown: ShutdownSettings) async {
        switch await claims.claim(bot, onLocked: onLocked) {
        case .acquired(let lock):
            await launch(makeRuntime(for: bot, shutdown: shutdown), lock: lock)
        case .standBy:
            await launch(makeRuntime(for: bot, shutdown: shutdown), lock: nil)
        case .skipped(let reason), .refused(let reason):
            logger.warning("reload: not started: \(reason)", metadata: ["bot": "\(bot.name)"])
            state.withLock { $0.skipped.append(bot.name) }
        case .failed(let error):
            logger.error("reload: cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
        }
    }
}
