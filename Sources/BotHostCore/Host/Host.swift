import BotAPIEmulator
package import BotHostKit
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
package import UnixSignals

/// Hosts every bot of a manifest until stopped.
///
/// A host is a group of services, started in this order and stopped in the reverse one,
/// each awaited: the signal handling of `bothost run`, the sandbox emulator
/// (`api_url: sandbox`), the admin server and its sampling of update rates, the lock
/// backend, the worker processes, the systemd monitor and the
/// ``BotFleet``, which waits until the services before it listen, takes the locks and
/// runs the bots. The group ends when the fleet does: every bot stopped or failed.
package final class Host: Sendable {
    package let manifest: Manifest
    /// Cleanup of the host's own, run after every bot has stopped.
    package let shutdown: ShutdownHooks
    /// Every bot's metrics, as `/metrics` shows them.
    let metrics = HostMetrics()
    private let plugins: [String: any BotPlugin.Type]
    private let environment: HostEnvironment
    private let logger: Logger
    /// When the host began, for its uptime.
    let started = ContinuousClock.now
    /// Where the bots' plugin code runs.
    let role: HostRole
    /// The running fleet, whether a stop came before it existed, and the bots it is to keep
    /// paused (a worker's assignment may come before the fleet exists).
    /// The webhook bots the listener routes to, as the manifest in force lists them.
    let webhookBots: WebhookDirectory
    private let running = Mutex<(fleet: BotFleet?, stopRequested: Bool, paused: Set<String>)>((nil, false, []))

    package init(
        manifest: Manifest, plugins: [any BotPlugin.Type], environment: HostEnvironment, role: HostRole = .standalone
    ) {
        self.manifest = manifest
        self.role = role
        self.plugins = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.environment = environment
        self.logger = environment.logger
        self.webhookBots = WebhookDirectory(manifest)
        self.shutdown = ShutdownHooks(defaultTimeout: manifest.shutdown.hookTimeout, logger: environment.logger)
    }

    /// Hosts the bots until they have all stopped, or until ``requestStop()``; returns the
    /// process exit status. Signals are left alone.
    package func run() async -> ExitStatus {
        await run(before: [], reloader: nil)
    }

    /// Hosts the bots as ``run()`` does, stopping gracefully on SIGTERM or SIGINT from
    /// `signals` (a second one exits at once) and reloading on SIGHUP with what `reload`
    /// reads: `bothost run`. `signals` traps them from its creation, so a signal that comes
    /// while the host is still starting waits for it rather than killing the process.
    package func runHandlingSignals(
        _ signals: UnixSignalsSequence, reload: (@Sendable () throws(ManifestError) -> Manifest)?
    ) async -> ExitStatus {
        let reloader = reload.map { ManifestReloader(host: self, read: $0, logger: logger) }
        return await run(
            before: [HostSignals(host: self, signals: signals, reloader: reloader, logger: logger)], reloader: reloader)
    }

    /// Stops every bot at once: pending polls end, fetched updates drain, hooks run,
    /// locks are released. Safe to call more than once and from any task.
    package func requestStop() {
        let fleet = running.withLock { running in
            running.stopRequested = true
            return running.fleet
        }
        fleet?.requestStop()
    }

    /// Applies a new manifest without a restart (see ``BotFleet/reload(_:)``), once every
    /// bot of the start-up manifest runs: a reload that comes while the host is still
    /// starting waits for it rather than being lost. Nothing happens once a stop began.
    @discardableResult
    package func reload(_ new: Manifest) async -> ReloadSummary? {
        webhookBots.use(new)
        while true {
            if let summary = await fleet?.reload(new) { return summary }
            guard !running.withLock({ $0.stopRequested }), fleet?.isStarting ?? true else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The bots to keep paused, as a worker's assignment lists them.
    func usePaused(_ names: Set<String>) {
        let fleet = running.withLock { running in
            running.paused = names
            return running.fleet
        }
        fleet?.usePaused(names)
    }

    /// Restarts `name` in this worker, as its assignment asks (see ``BotFleet/restart(_:)``).
    func restart(_ name: String) async {
        try? await fleet?.restart(name)
    }

    /// Has `name` look into its journal at once, as its worker's assignment asks (see
    /// ``BotFleet/wakeJournal(of:)``).
    func wakeJournal(of name: String) {
        fleet?.wakeJournal(of: name)
    }

    /// The worker processes, when this host is their supervisor.
    private var workers: WorkerPool? { fleet?.workers }

    /// Each hosted bot's status, by name.
    var botStatuses: [String: BotStatus.Snapshot] {
        Dictionary(report.statuses().map { ($0.name, $0.snapshot) }, uniquingKeysWith: { _, latest in latest })
    }

    /// What `/health`, `/ready` and systemd hear about the bots.
    var report: HostReport {
        HostReport(
            started: started, statuses: { [self] in fleet?.statuses() ?? [] }, skipped: { [self] in fleet?.skipped() ?? [] })
    }

    /// The fleet, once ``run()`` has begun.
    var fleet: BotFleet? { running.withLock { $0.fleet } }

    /// The port of the admin server, once it listens.
    var adminPort: Int? { fleet?.adminPort }

    /// The webhook listener, where the locks are (never in a worker) and any bot takes
    /// webhooks; deliveries go to the workers, or to this process's bots. Throws when the
    /// TLS files cannot be read.
    private func webhookListener(workers: WorkerPool?) throws -> HTTPServer? {
        guard role.delegatedLocks == nil, manifest.bots.contains(where: { $0.ingress == .webhook }) else { return nil }
        return try WebhookListener.server(
            settings: manifest.ingress, bots: webhookBots, target: workers ?? environment.webhookInbox,
            metrics: PrometheusMetricsFactory(registry: metrics.host), logger: logger)
    }

    private func run(before: [any Service], reloader: ManifestReloader?) async -> ExitStatus {
        let locks: LockService
        do {
            locks = try LockService(for: manifest, environment: environment, delegatedTo: role.delegatedLocks)
        } catch let error as JournalError {
            logger.error("\(manifest.file): \(error)")
            return .journalUnusable
        } catch {
            logger.error("\(manifest.file): lock: \(error)")
            return .usage
        }
        let sandbox = Sandbox(for: manifest, logger: logger)
        let workers = role.launcher.map { WorkerPool(launcher: $0, manifest: manifest, logger: logger) }
        let admin = manifest.admin.map { settings in
            let rates = UpdateRates(statuses: report.statuses)
            let control = FleetControl(host: self, rates: rates, reloader: reloader, journals: locks.journals, logger: logger)
            let server = AdminServer.server(
                listen: settings, report: report, control: control, metrics: metrics,
                workerMetrics: { await workers?.metrics() ?? [] }, logger: logger)
            return (server: server, rates: rates)
        }
        let webhooks: HTTPServer?
        do {
            webhooks = try webhookListener(workers: workers)
        } catch {
            logger.error("\(manifest.file): ingress.tls: \(error)")
            return .usage
        }
        let fleet = BotFleet(
            manifest: manifest, plugins: plugins, environment: environment,
            claims: LockClaims(tokenLock: locks.tokenLock, maxBots: manifest.maxBots), journals: locks.journals,
            workers: workers, inWorker: role.delegatedLocks != nil, metrics: metrics, hostHooks: shutdown,
            sandbox: sandbox, admin: admin?.server, webhooks: webhooks)
        let monitor = SystemdNotifier(environment: environment.variables).map { SystemdMonitor(notifier: $0, report: report) }
        let optional: [(any Service)?] = [sandbox, admin?.server, admin?.rates, webhooks, locks, workers, monitor]
        let services = before + optional.compactMap { $0 } + [fleet]
        // A service that fails stops the others as SIGTERM does, within `shutdown.timeout`:
        // the bots drain and run their hooks, and no server is cancelled while it accepts
        // connections, which NIO traps on when one was accepted but not yet served
        // (apple/swift-nio#3481). Only a stop that overruns the timeout is cancelled. Its
        // error is logged when it happens, not after the stop it causes.
        var configuration = ServiceGroupConfiguration(
            services: services.map { service in
                ServiceGroupConfiguration.ServiceConfiguration(
                    service: FailureReportingService(service: service, logger: logger),
                    successTerminationBehavior: service is BotFleet ? .gracefullyShutdownGroup : .ignore,
                    failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "\(service)")
            },
            logger: Logger(label: "bothost.lifecycle") { _ in SwiftLogNoOpLogHandler() })
        configuration.maximumGracefulShutdownDuration = manifest.shutdown.timeout
        let group = ServiceGroup(configuration: configuration)
        let stopRequested = running.withLock { running in
            running.fleet = fleet
            fleet.usePaused(running.paused)
            return running.stopRequested
        }
        if stopRequested { fleet.requestStop() }
        do {
            try await group.run()
        } catch {
            if !(error is ReportedFailure) { logger.error("\(error)") }
            return .botFailed
        }
        return fleet.exitStatus
    }
}
