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
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    private struct State {
        var stopRequestedAt: ContinuousClock.Instant?
        var runtimes: [BotRuntime] = []
        var skipped: [String] = []
        var adminPort: Int?
    }

    public init(manifest: Manifest, plugins: [any BotPlugin.Type], environment: HostEnvironment) {
        self.manifest = manifest
        self.plugins = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.environment = environment
        self.logger = environment.logger
        self.notifier = SystemdNotifier(environment: environment.variables)
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
        case .postgres:
            logger.error("\(manifest.file): lock.backend: postgres is not supported by this build yet; use backend: file")
            return .usage
        }
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

        let runtimes = manifest.bots.compactMap { bot -> BotRuntime? in
            guard claimed[bot.name] != nil || manifest.onLocked == .wait else { return nil }
            let apiURL =
                switch bot.apiURL {
                case .url(let url): url
                case .sandbox: sandbox?.baseURL ?? ""
                }
            return BotRuntime(
                configuration: bot, plugin: plugins[bot.plugin]!, apiURL: apiURL, shutdown: manifest.shutdown,
                environment: environment, metrics: BotMetrics(bot: bot.name, factory: PrometheusMetricsFactory(registry: metrics)))
        }
        let stopAlreadyRequested = state.withLock { state in
            state.runtimes = runtimes
            return state.stopRequestedAt != nil
        }
        if stopAlreadyRequested { for runtime in runtimes { runtime.requestStop() } }
        logger.info("hosting \(runtimes.count) of \(manifest.bots.count) bots", metadata: ["pid": "\(getpid())"])

        let monitoring = Task { await monitor() }
        let outcomes = await withTaskGroup(of: BotRuntime.Outcome.self) { group in
            for runtime in runtimes {
                group.addTask { await runtime.run(lock: claimed[runtime.configuration.name], tokenLock: tokenLock) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        monitoring.cancel()
        await shutdown.run()
        let failed = outcomes.filter { $0 != .stopped }.count
        if let stopRequestedAt = state.withLock({ $0.stopRequestedAt }) {
            logger.info("shutdown complete in \(formatDuration(.now - stopRequestedAt))")
        }
        if failed > 0 {
            logger.error("\(failed) of \(runtimes.count) bots failed")
            return .botFailed
        }
        return .success
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
            let attempt: LockAttempt
            do {
                attempt = try await tokenLock.tryAcquire(bot.lockID, owner: .currentProcess(bot: bot.name))
            } catch {
                logger.error("cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
                await releaseAll()
                return .exit(.botFailed)
            }
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
