import BotHostKit
import CoreMetrics
import Prometheus
import Synchronization

/// Starting and ending the bots' runtimes, at start-up and on reload.
extension BotFleet {
    func makeRuntime(for bot: BotConfiguration, shutdown: ShutdownSettings) -> BotRuntime {
        let apiURL =
            switch bot.apiURL {
            case .url(let url): url
            case .sandbox: state.withLock { $0.sandboxURL } ?? ""
            }
        return BotRuntime(
            configuration: bot, plugin: plugins[bot.plugin]!, apiURL: apiURL, journals: journals,
            suspects: suspects, workers: workers, shutdown: shutdown,
            environment: environment, metrics: BotMetrics(bot: bot.name, factory: metricsFactory))
    }

    /// Where a new bot's metrics go: the host's registry, which keeps only the state and
    /// the lock of a bot that runs in a worker.
    private var metricsFactory: any MetricsFactory {
        let registry = PrometheusMetricsFactory(registry: metrics)
        return workers == nil ? registry : SupervisorMetricsFactory(base: registry)
    }

    /// Starts `runtime` in ``runBots()``'s task group, or releases `lock` if the fleet is stopping.
    func launch(_ runtime: BotRuntime, lock: (any HeldTokenLock)?) async {
        let launcher = state.withLock { state -> AsyncStream<Launch>.Continuation? in
            guard state.stopRequestedAt == nil, let launcher = state.launcher else { return nil }
            state.running += 1
            state.runtimes.append(runtime)
            return launcher
        }
        guard let launcher else {
            if let lock { await claims.release(lock) }
            return
        }
        launcher.yield(Launch(runtime: runtime, lock: lock))
    }

    func ended(_ runtime: BotRuntime, _ outcome: BotRuntime.Outcome) {
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
