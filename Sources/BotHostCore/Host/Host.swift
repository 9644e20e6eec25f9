import BotAPIEmulator
import BotHostKit
import Foundation
import Logging
import Prometheus
import Synchronization
import TelegramBotAPI

/// Hosts every bot of a manifest until stopped.
///
/// Start-up takes every lock first, in lock-id order, before any bot polls: under
/// `on_locked: fail` a host either gets the whole fleet or exits 3 having started
/// nothing, and racing hosts cannot split a fleet between them. Then every bot runs on
/// its own ``BotRuntime``; a bot that fails never stops the others. ``requestStop()``
/// stops all bots at once, then runs the host's own hooks.
public final class Host: Sendable {
    public let manifest: Manifest
    /// Cleanup of the host's own, run after every bot has stopped.
    public let shutdown: ShutdownHooks
    /// Every bot's metrics, as `/metrics` shows them.
    let metrics = PrometheusCollectorRegistry()
    private let plugins: [String: any BotPlugin.Type]
    private let environment: HostEnvironment
    private let logger: Logger
    private let notifier: SystemdNotifier?
    private let slots: BotSlots
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    private struct State {
        var stopRequestedAt: ContinuousClock.Instant?
        /// The bots being hosted (failed ones stay, for `/health`).
        var runtimes: [BotRuntime] = []
        var skipped: [String] = []
        var adminPort: Int?
        /// Hands new runtimes to the task group of ``run()``; finished when none are left.
        var launcher: AsyncStream<Launch>.Continuation?
        var running = 0
        var reloading = 0
        var failures = 0
        var tokenLock: (any TokenLock)?
        var sandboxURL: String?
    }

    private struct Launch: Sendable {
        let runtime: BotRuntime
        let lock: (any HeldTokenLock)?
    }

    public init(manifest: Manifest, plugins: [any BotPlugin.Type], environment: HostEnvironment) {
        self.manifest = manifest
        self.plugins = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.environment = environment
        self.logger = environment.logger
        self.notifier = SystemdNotifier(environment: environment.variables)
        self.slots = BotSlots(limit: manifest.maxBots)
        self.shutdown = ShutdownHooks(defaultTimeout: manifest.shutdown.hookTimeout, logger: environment.logger)
    }

    /// Stops every bot at once: pending polls end, fetched updates drain, hooks run,
    /// locks are released. Safe to call more than once and from any task.
    public func requestStop() {
        let runtimes = state.withLock { state -> [BotRuntime]? in
            guard state.stopRequestedAt == nil else { return nil }
            state.stopRequestedAt = .now
            return state.runtimes
        }
        guard let runtimes else { return }
        notifier?.send("STOPPING=1")
        logger.info("shutdown: stopping \(runtimes.count) bots")
        for runtime in runtimes { runtime.requestStop() }
    }

    private var isStopRequested: Bool { state.withLock { $0.stopRequestedAt != nil } }

    /// Each hosted bot's status, by name.
    var botStatuses: [String: BotStatus.Snapshot] {
        Dictionary(uniqueKeysWithValues: report.statuses().map { ($0.name, $0.snapshot) })
    }

    /// The port of the admin server, once it listens.
    var adminPort: Int? { state.withLock { $0.adminPort } }

    var report: HostReport {
        HostReport(
            started: started,
            statuses: { [self] in
                state.withLock { $0.runtimes.map { ($0.configuration.name, $0.status.current) } }
            },
            skipped: { [self] in state.withLock { $0.skipped } })
    }

    /// Hosts the bots until they have all stopped; returns the process exit status.
    public func run() async -> ExitStatus {
        let tokenLock: any TokenLock
        switch manifest.lock {
        case .file(let directory):
            tokenLock = FileTokenLock(directory: directory)
        case .postgres(let url, let passwordFile):
            do {
                let database = try LockDatabase(url: url, passwordFile: passwordFile, environment: environment.variables)
                tokenLock = PostgresTokenLock(database: database, timing: environment.lockSessionTiming, logger: logger)
            } catch {
                logger.error("\(manifest.file): lock: \(error)")
                return .usage
            }
        }
        let status = await run(with: tokenLock)
        await tokenLock.shutdown()
        return status
    }

    /// Hosts the bots, their locks taken from `tokenLock`.
    private func run(with tokenLock: any TokenLock) async -> ExitStatus {
        let sandbox: Sandbox?
        do {
            sandbox = try await Sandbox.startIfNeeded(for: manifest, logger: logger)
        } catch {
            logger.error("the sandbox did not start: \(error)")
            return .botFailed
        }
        defer { if let sandbox { Task { await sandbox.stop() } } }
        var admin: AdminServer?
        if let listen = manifest.admin {
            do {
                admin = try await AdminServer.start(listen: listen, report: report, registry: metrics, logger: logger)
                state.withLock { $0.adminPort = admin?.port }
            } catch {
                logger.error("the admin server cannot listen on \(listen.host):\(listen.port): \(error)")
                return .botFailed
            }
        }
        defer { if let admin { Task { await admin.stop() } } }

        let claimed: [String: any HeldTokenLock]
        switch await claimLocks(with: tokenLock) {
        case .claimed(let locks): claimed = locks
        case .exit(let status): return status
        }

        let (launches, launcher) = AsyncStream<Launch>.makeStream()
        state.withLock { state in
            state.launcher = launcher
            state.tokenLock = tokenLock
            state.sandboxURL = sandbox?.baseURL
        }
        let runtimes = manifest.bots.filter { claimed[$0.name] != nil || manifest.onLocked == .wait }.map {
            makeRuntime(for: $0, shutdown: manifest.shutdown)
        }
        logger.info("hosting \(runtimes.count) of \(manifest.bots.count) bots", metadata: ["pid": "\(getpid())"])
        for runtime in runtimes { launch(runtime, lock: claimed[runtime.configuration.name]) }
        finishIfIdle()

        let monitoring = Task { await monitor() }
        await withDiscardingTaskGroup { group in
            for await launch in launches {
                group.addTask {
                    let outcome = await launch.runtime.run(lock: launch.lock, tokenLock: tokenLock, slots: self.slots)
                    self.ended(launch.runtime, outcome)
                }
            }
        }
        monitoring.cancel()
        await shutdown.run()
        let failed = state.withLock { $0.failures }
        if let stopRequestedAt = state.withLock({ $0.stopRequestedAt }) {
            logger.info("shutdown complete in \(formatDuration(.now - stopRequestedAt))")
        }
        if failed > 0 {
            logger.error("\(failed) bots failed")
            return .botFailed
        }
        return .success
    }

    private func makeRuntime(for bot: BotConfiguration, shutdown: ShutdownSettings) -> BotRuntime {
        let apiURL =
            switch bot.apiURL {
            case .url(let url): url
            case .sandbox: state.withLock { $0.sandboxURL } ?? ""
            }
        return BotRuntime(
            configuration: bot, plugin: plugins[bot.plugin]!, apiURL: apiURL, shutdown: shutdown,
            environment: environment, metrics: BotMetrics(bot: bot.name, factory: PrometheusMetricsFactory(registry: metrics)))
    }

    /// Starts `runtime` in ``run()``'s task group, or releases `lock` if the host is stopping.
    private func launch(_ runtime: BotRuntime, lock: (any HeldTokenLock)?) {
        let launcher = state.withLock { state -> AsyncStream<Launch>.Continuation? in
            guard state.stopRequestedAt == nil, let launcher = state.launcher else { return nil }
            state.running += 1
            state.runtimes.append(runtime)
            return launcher
        }
        guard let launcher else {
            if let lock { Task { await lock.release() } }
            return
        }
        launcher.yield(Launch(runtime: runtime, lock: lock))
    }

    private func ended(_ runtime: BotRuntime, _ outcome: BotRuntime.Outcome) {
        state.withLock { state in
            state.running -= 1
            if case .failed = outcome { state.failures += 1 }
        }
        finishIfIdle()
    }

    /// Ends ``run()``'s task group once no bot runs and no reload is adding one.
    private func finishIfIdle() {
        let launcher = state.withLock { state -> AsyncStream<Launch>.Continuation? in
            guard state.running == 0, state.reloading == 0 else { return nil }
            return state.launcher.take()
        }
        launcher?.finish()
    }

    // MARK: - Reload

    /// Applies a new manifest without a restart (SIGHUP): bots that are new start, bots
    /// that are gone stop gracefully (hooks, offset, lock), bots whose settings changed
    /// restart, and the rest are not disturbed: their polls go on.
    ///
    /// Only `bots` (with `defaults`) is reloaded; changes to `lock`, `api_url: sandbox`,
    /// `admin` or `shutdown` need a restart and are reported as such.
    public func reload(_ new: Manifest) async {
        let current = state.withLock { state -> [BotRuntime]? in
            guard state.stopRequestedAt == nil, state.launcher != nil else { return nil }
            state.reloading += 1
            return state.runtimes.filter { ![.stopped, .failed].contains($0.status.state) }
        }
        guard let current else { return }
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
        for runtime in retiring {
            while ![.stopped, .failed].contains(runtime.status.state) { try? await Task.sleep(for: .milliseconds(10)) }
        }
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
        logger.info("reload: \(added.count) added, \(removed.count) removed, \(changed.count) restarted, \(unchanged) unchanged")
    }

    /// Takes a reloaded bot's lock and starts it; a held lock never stops the host here.
    private func start(_ bot: BotConfiguration, onLocked: OnLocked, shutdown: ShutdownSettings) async {
        guard let tokenLock = state.withLock({ $0.tokenLock }) else { return }
        guard slots.take() else {
            if onLocked == .wait {
                launch(makeRuntime(for: bot, shutdown: shutdown), lock: nil)
            } else {
                logger.warning("reload: not started, max_bots reached", metadata: ["bot": "\(bot.name)"])
                state.withLock { $0.skipped.append(bot.name) }
            }
            return
        }
        do {
            let attempt = try await tokenLock.tryAcquire(bot.lockID, owner: .currentProcess(bot: bot.name))
            if case .heldElsewhere = attempt { slots.give() }
            switch attempt {
            case .acquired(let lock):
                launch(makeRuntime(for: bot, shutdown: shutdown), lock: lock)
            case .heldElsewhere where onLocked == .wait:
                launch(makeRuntime(for: bot, shutdown: shutdown), lock: nil)
            case .heldElsewhere(let holder):
                let by = holder.map { "pid \($0.pid) on \($0.hostname)" } ?? "another process"
                logger.warning("reload: not started, the bot is already polled by \(by)", metadata: ["bot": "\(bot.name)"])
                state.withLock { $0.skipped.append(bot.name) }
            }
        } catch {
            slots.give()
            logger.error("reload: cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
        }
    }

    private enum LockClaim {
        /// The locks taken, by bot name.
        case claimed([String: any HeldTokenLock])
        /// Start-up ends here, with this status.
        case exit(ExitStatus)
    }

    /// Takes every lock that is free, in lock-id order. Under `on_locked: fail` a held
    /// lock releases the others and ends start-up with exit 3.
    private func claimLocks(with tokenLock: any TokenLock) async -> LockClaim {
        var claimed: [String: any HeldTokenLock] = [:]
        func releaseAll() async {
            for lock in claimed.values { await lock.release() }
        }
        for bot in manifest.bots.sorted(by: { $0.lockID < $1.lockID }) {
            if isStopRequested {
                await releaseAll()
                return .exit(.success)
            }
            guard slots.take() else {
                if manifest.onLocked != .wait {
                    logger.warning("skipped: max_bots (\(manifest.maxBots ?? 0)) reached", metadata: ["bot": "\(bot.name)"])
                    state.withLock { $0.skipped.append(bot.name) }
                }
                continue
            }
            let attempt: LockAttempt
            do {
                attempt = try await tokenLock.tryAcquire(bot.lockID, owner: .currentProcess(bot: bot.name))
            } catch {
                logger.error("cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
                await releaseAll()
                return .exit(.botFailed)
            }
            if case .heldElsewhere = attempt { slots.give() }
            switch attempt {
            case .acquired(let lock):
                claimed[bot.name] = lock
            case .heldElsewhere(let holder):
                let by = holder.map { "pid \($0.pid) on \($0.hostname)" } ?? "another process"
                switch manifest.onLocked {
                case .fail:
                    logger.error(
                        "the bot is already polled by \(by) (lock \(bot.lockID)); exiting (on_locked: fail)",
                        metadata: ["bot": "\(bot.name)"])
                    await releaseAll()
                    return .exit(.lockHeld)
                case .skip:
                    logger.warning("skipped: the bot is already polled by \(by)", metadata: ["bot": "\(bot.name)", "state": "skipped"])
                    state.withLock { $0.skipped.append(bot.name) }
                case .wait:
                    break
                }
            }
        }
        return .claimed(claimed)
    }

    /// Keeps systemd informed while the bots run: `READY=1` once every bot polls or
    /// stands by, `STATUS=` whenever the summary changes, and `WATCHDOG=1` from this
    /// running loop, so that a host too stuck to run it stops beating.
    private func monitor() async {
        guard let notifier else { return }
        let report = self.report
        var ready = false
        var lastSummary = ""
        var lastBeat = ContinuousClock.now
        while !Task.isCancelled {
            if !ready, report.readiness().ready {
                ready = true
                notifier.send("READY=1")
            }
            let summary = report.summary()
            if summary != lastSummary {
                lastSummary = summary
                notifier.send("STATUS=\(summary)")
            }
            if let interval = notifier.watchdogInterval, ContinuousClock.now - lastBeat >= interval {
                lastBeat = .now
                notifier.send("WATCHDOG=1")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
