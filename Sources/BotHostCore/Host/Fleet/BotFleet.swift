import BotAPIEmulator
import BotHostKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Every bot of a host, from the first lock to the last stop: the last service of the
/// host's group, so the first to be stopped.
///
/// Start-up waits until the services before it listen (sandbox, admin server), then takes
/// every lock first, in lock-id order, before any bot polls: under `on_locked: fail` a host
/// either gets the whole fleet or exits 3 having started nothing, and racing hosts cannot
/// split a fleet between them. Then every bot runs on its own ``BotRuntime``; a bot that
/// fails never stops the others. A stop (graceful shutdown, or ``requestStop()``) stops
/// every bot at once, then runs the host's own hooks. The fleet returns once no bot runs,
/// which ends the group.
final class BotFleet: Service {
    let manifest: Manifest
    let claims: LockClaims
    let journals: any JournalStorage
    /// One for the host's bots: see ``SuspectGate``.
    let suspects = SuspectGate()
    /// The worker processes that run the bots, when this host supervises them.
    let workers: WorkerPool?
    /// Whether this fleet runs in a worker process: it then waits for bots even when it
    /// has none, until the supervisor stops it.
    let inWorker: Bool
    let logger: Logger
    let plugins: [String: any BotPlugin.Type]
    let environment: HostEnvironment
    let metrics: HostMetrics
    private let hostHooks: ShutdownHooks
    private let sandbox: Sandbox?
    private let admin: HTTPServer?
    /// The webhook listener, where this host has one.
    private let webhooks: HTTPServer?
    private let notifier: SystemdNotifier?
    /// The Bot API connections the bots of this process share, closed when the fleet ends.
    let apiConnections = BotAPIConnections(maxConnections: Int(clamping: OpenFileLimit.current))
    let state = Mutex(State())

    struct State {
        var stopRequestedAt: ContinuousClock.Instant?
        /// The bots being hosted (failed ones stay, for `/health`).
        var runtimes: [BotRuntime] = []
        var skipped: [String] = []
        /// Bots the operator paused, by name: a bot started again (a restart, a reload)
        /// starts paused.
        var paused: Set<String> = []
        var adminPort: Int?
        var sandboxURL: String?
        /// Hands new runtimes to the task group of ``runBots()``; finished when none are left.
        var launcher: AsyncStream<Launch>.Continuation?
        /// Whether the bots of the start-up manifest have all been launched: a reload
        /// before then would see some of them as new and start them twice.
        var launched = false
        var running = 0
        var reloading = 0
        var failures = 0
        var exitStatus = ExitStatus.success
    }

    struct Launch: Sendable {
        let runtime: BotRuntime
        let lock: (any HeldTokenLock)?
    }

    init(
        manifest: Manifest, plugins: [String: any BotPlugin.Type], environment: HostEnvironment, claims: LockClaims,
        journals: any JournalStorage, workers: WorkerPool?, inWorker: Bool,
        metrics: HostMetrics, hostHooks: ShutdownHooks, sandbox: Sandbox?, admin: HTTPServer?,
        webhooks: HTTPServer? = nil
    ) {
        self.webhooks = webhooks
        self.workers = workers
        self.inWorker = inWorker
        self.manifest = manifest
        self.plugins = plugins
        self.environment = environment
        self.logger = environment.logger
        self.claims = claims
        self.journals = journals
        self.metrics = metrics
        self.hostHooks = hostHooks
        self.sandbox = sandbox
        self.admin = admin
        self.notifier = SystemdNotifier(environment: environment.variables)
    }

    /// How the fleet ended, once ``run()`` returned.
    var exitStatus: ExitStatus { state.withLock { $0.exitStatus } }

    /// The port of the admin server, once it listens.
    var adminPort: Int? { state.withLock { $0.adminPort } }

    /// Each hosted bot's status, by name, in the order they were started.
    func statuses() -> [(name: String, snapshot: BotStatus.Snapshot)] {
        state.withLock { $0.runtimes.map { ($0.configuration.name, $0.status.current) } }
    }

    /// Bots left to other hosts (`on_locked: skip`, `max_bots`): never polled here.
    func skipped() -> [String] {
        state.withLock { $0.skipped }
    }

    func run() async throws {
        let status = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.runBots()
            } onGracefulShutdown: {
                self.requestStop()
            }
        } onCancel: {
            self.requestStop()
        }
        try? await apiConnections.shutdown()
        state.withLock { $0.exitStatus = status }
    }

    /// Stops every bot at once: pending polls end, fetched updates drain, hooks run,
    /// locks are released. Safe to call more than once and from any task.
    func requestStop() {
        let runtimes = state.withLock { state -> [BotRuntime]? in
            guard state.stopRequestedAt == nil else { return nil }
            state.stopRequestedAt = .now
            return state.runtimes
        }
        guard let runtimes else { return }
        notifier?.send("STOPPING=1")
        // Nothing to say when start-up ended before any bot ran (an admin port in use).
        if !runtimes.isEmpty && !inWorker { logger.info("shutdown: stopping \(runtimes.count) bots") }
        workers?.stop()
        for runtime in runtimes { runtime.requestStop() }
        finishIfIdle()
    }

    var isStopRequested: Bool { state.withLock { $0.stopRequestedAt != nil } }

    /// Whether the fleet is still launching the bots of the start-up manifest.
    var isStarting: Bool { state.withLock { !$0.launched && $0.stopRequestedAt == nil } }

    private func runBots() async -> ExitStatus {
        do {
            let sandboxURL = try await sandbox?.baseURL()
            let adminPort = try await admin?.port()
            _ = try await webhooks?.port()
            state.withLock { state in
                state.sandboxURL = sandboxURL
                state.adminPort = adminPort
            }
            workers?.use(sandboxURL: sandboxURL)
        } catch {
            // The group ends with the server's own error, which the host reports.
            return .botFailed
        }
        let claimed: [String: any HeldTokenLock]
        switch await claimLocks() {
        case .claimed(let locks): claimed = locks
        case .exit(let status): return status
        }

        let (launches, launcher) = AsyncStream<Launch>.makeStream()
        state.withLock { $0.launcher = launcher }
        let runtimes = manifest.bots.filter { claimed[$0.name] != nil || manifest.onLocked == .wait }.map {
            makeRuntime(for: $0, shutdown: manifest.shutdown)
        }
        if !inWorker {
            logger.info(
                "hosting \(runtimes.count) of \(manifest.bots.count) bots", metadata: ["pid": .stringConvertible(Int(getpid()))])
        }
        for runtime in runtimes { await launch(runtime, lock: claimed[runtime.configuration.name]) }
        state.withLock { $0.launched = true }
        finishIfIdle()

        await withDiscardingTaskGroup { group in
            for await launch in launches {
                group.addTask {
                    let outcome = await launch.runtime.run(lock: launch.lock, claims: self.claims)
                    self.ended(launch.runtime, outcome)
                }
            }
        }
        // Every bot has ended: the workers have nothing left to run.
        workers?.stop()
        await hostHooks.run()
        let (failed, stopRequestedAt) = state.withLock { ($0.failures, $0.stopRequestedAt) }
        if let stopRequestedAt, !inWorker {
            logger.info("shutdown complete in \(formatDuration(.now - stopRequestedAt))")
        }
        if failed > 0 {
            logger.error(failed == 1 ? "1 bot failed" : "\(failed) bots failed")
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
    private func claimLocks() async -> LockClaim {
        var claimed: [String: any HeldTokenLock] = [:]
        func releaseAll() async {
            for lock in claimed.values { await claims.release(lock) }
        }
        for bot in manifest.bots.sorted(by: { $0.lockID < $1.lockID }) {
            if isStopRequested {
                await releaseAll()
                return .exit(.success)
            }
            switch await claims.claim(bot, onLocked: manifest.onLocked) {
            case .acquired(let lock):
                claimed[bot.name] = lock
            case .standBy:
                break
            case .skipped(let reason):
                logger.warning("skipped: \(reason)", metadata: ["bot": "\(bot.name)", "state": "skipped"])
                state.withLock { $0.skipped.append(bot.name) }
            case .refused(let reason):
                logger.error("\(reason); exiting (on_locked: fail)", metadata: ["bot": "\(bot.name)"])
                await releaseAll()
                return .exit(.lockHeld)
            case .failed(let error):
                logger.error("cannot take the lock: \(error)", metadata: ["bot": "\(bot.name)"])
                await releaseAll()
                return .exit(.botFailed)
            }
        }
        return .claimed(claimed)
    }
}
