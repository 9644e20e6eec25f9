import BotHostKit
import Logging
import Synchronization
import TelegramBotAPI

extension BotFleet {
    /// Applies a new manifest without a restart (SIGHUP): bots that are new start, bots
    /// that are gone stop gracefully (hooks, offset, lock), bots whose settings changed
    /// restart, and the rest are not disturbed: their polls go on.
    ///
    /// Only `bots` (with `defaults`) is reloaded; changes to `lock`, `api_url: sandbox`,
    /// `admin` or `shutdown` need a restart and are reported as such. Returns what changed,
    /// or `nil`, having done nothing, while the fleet is still starting or already stopping.
    @discardableResult
    func reload(_ new: Manifest) async -> ReloadSummary? {
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
        guard let (current, failed) = reloading else { return nil }
        defer {
            state.withLock { $0.reloading -= 1 }
            finishIfIdle()
        }
        if new.lock != manifest.lock || new.admin != manifest.admin || new.shutdown != manifest.shutdown
            || !new.ingress.hasSameListener(as: manifest.ingress)
        {
            logger.warning(
                "reload: changes to lock, admin, shutdown and the webhook listener (ingress: listen, tls, trusted_networks, trusted_proxies) take effect after a restart"
            )
        }
        let wanted = Dictionary(new.bots.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let running = Dictionary(current.map { ($0.configuration.name, $0) }, uniquingKeysWith: { first, _ in first })
        let removed = current.filter { wanted[$0.configuration.name] == nil }
        let changed = current.filter { runtime in
            wanted[runtime.configuration.name].map { !$0.isSameDeployment(as: runtime.configuration) } ?? false
        }
        let retiring = removed + changed
        // A bot that comes back in a later reload starts unpaused, in its worker too.
        for runtime in removed { workers?.setPaused(runtime.configuration.name, false) }
        for runtime in retiring { runtime.requestStop() }
        for runtime in retiring { await runtime.status.waitUntilEnded() }
        // The workers read the new manifest from here on, once the bots it changes have
        // ended: an assignment that still named one would have its worker restart it with
        // the new settings and report the old run stopped, and the supervisor, retiring it,
        // would release its lock while the new run polled.
        workers?.use(new)
        if !inWorker {
            for runtime in removed where runtime.configuration.ingress == .webhook {
                await deleteWebhook(of: runtime.configuration, logger: runtime.logger)
            }
        }
        state.withLock { state in
            state.runtimes.removeAll { runtime in retiring.contains { $0 === runtime } }
            state.skipped.removeAll { wanted[$0] != nil }
            state.paused.formIntersection(wanted.keys)
        }
        let added = new.bots.filter { running[$0.name] == nil }
        let restarted = new.bots.filter { bot in changed.contains { $0.configuration.name == bot.name } }
        for bot in (added + restarted).sorted(by: { $0.lockID < $1.lockID }) {
            await start(bot, onLocked: new.onLocked, shutdown: new.shutdown, cause: "reload")
        }
        let retried = added.filter { failed.contains($0.name) }.count
        let summary = ReloadSummary(
            added: added.count - retried, removed: removed.count, restarted: changed.count + retried,
            unchanged: current.count - retiring.count)
        if !inWorker { logger.info("reload: \(summary)") }
        return summary
    }

    /// Deletes the webhook of a bot the manifest no longer has, keeping its pending
    /// updates: Telegram would otherwise post them to a listener that refuses them. A stop
    /// keeps the webhook; only a removal deletes it.
    private func deleteWebhook(of bot: BotConfiguration, logger: Logger) async {
        let api = BotAPIClient(
            token: bot.token, configuration: .init(baseURL: apiURL(of: bot), clock: environment.clock),
            connections: apiConnections, logger: logger)
        do {
            try await api.deleteWebhook(dropPendingUpdates: false)
            logger.info("reload: removed from the manifest; webhook deleted, pending updates kept")
        } catch {
            logger.warning("reload: removed from the manifest, but its webhook could not be deleted: \(error)")
        }
    }
}
