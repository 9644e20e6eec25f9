import BotHostKit
import Foundation
import Logging
import TelegramBotAPI
import UnixSignals

/// The worker side of process isolation, `bothost worker` (started by a supervisor, never
/// by hand): runs the bots it is assigned in a ``Host`` whose locks the supervisor holds,
/// and reports their statuses (``WorkerReporter``).
///
/// The first assignment starts the host; each later one is applied as a reload, so the
/// bots the worker keeps are not disturbed. Each also says which bots are paused, and
/// which the operator asked to restart or handed dead letters back to since the last
/// one. SIGTERM stops it as it stops a host; SIGHUP is the supervisor's business and
/// ignored.
struct Worker {
    let plugins: [any BotPlugin.Type]
    let logger: Logger

    func run(signals: UnixSignalsSequence) async -> ExitStatus {
        let locks = DelegatedTokenLock()
        let link = SupervisorLink(logger: logger) { lost in locks.lose(Set(lost.compactMap(LockID.init(hex:)))) }
        var variables = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { variables[name] = nil }
        let reporter = WorkerReporter(link: link)
        var environment = HostEnvironment(logger: logger, variables: variables)
        environment.onStatusChange = { reporter.statusChanged($0) }
        await withDiscardingTaskGroup { group in
            var running: Host?
            var restarts: [String: Int] = [:]
            var journalWakeups: [String: Int] = [:]
            var parsed: ParsedManifest?
            for await assignment in link.assignments {
                guard let manifest = manifest(for: assignment, parsed: &parsed, environment: variables, reporter: reporter)
                else { continue }
                locks.assign(Set(assignment.bots.values.compactMap(LockID.init(hex:))))
                if let running {
                    // Paused first, so that a bot this assignment adds starts paused.
                    running.usePaused(assignment.paused)
                    await running.reload(manifest)
                } else {
                    let host = Host(manifest: manifest, plugins: plugins, environment: environment, role: .worker(locks))
                    host.usePaused(assignment.paused)
                    running = host
                    group.addTask {
                        let status = await host.runHandlingSignals(signals, reload: nil)
                        reporter.report()
                        exit(status.rawValue)
                    }
                    group.addTask { await reporter.run() }
                    group.addTask { [inbox = environment.webhookInbox] in
                        await Self.take(link.deliveries, into: inbox, link: link)
                    }
                    group.addTask {
                        for await id in link.metricsRequests { reporter.sendMetrics(of: host, id: id) }
                    }
                }
                for (name, count) in assignment.restarts where count > restarts[name] ?? count {
                    await running?.restart(name)
                }
                restarts = assignment.restarts
                for (name, count) in assignment.journalWakeups where count > journalWakeups[name] ?? count {
                    running?.wakeJournal(of: name)
                }
                journalWakeups = assignment.journalWakeups
            }
        }
        return .success
    }

    /// Hands each forwarded delivery to its bot's intake, concurrently, and reports each
    /// answer at once: the supervisor's listener is waiting for it.
    private static func take(_ deliveries: AsyncStream<ForwardedDelivery>, into inbox: WebhookInbox, link: SupervisorLink) async {
        await withDiscardingTaskGroup { group in
            for await delivery in deliveries {
                group.addTask {
                    var answer = WebhookAnswer.unavailable
                    if let lock = LockID(hex: delivery.bot), let update = try? Update(jsonText: Array(delivery.update.utf8)) {
                        answer = await inbox.accept(update, for: lock)
                    }
                    link.send(WorkerReport(bots: [:], answers: [.init(id: delivery.id, answer: answer)]))
                }
            }
        }
    }

    /// A manifest as the worker last parsed it, and its bots' lock ids by name.
    private struct ParsedManifest {
        let revision: Int
        let manifest: Manifest
        let locks: [String: String]

        /// Whether `assignment`'s manifest is this one: the same read of it by the supervisor
        /// (whose token files the worker read too), with the same lock ids.
        func matches(_ assignment: WorkerAssignment) -> Bool {
            revision == assignment.manifestRevision && assignment.bots.allSatisfy { name, lock in locks[name] == lock }
        }
    }

    /// The assigned bots of the assignment's manifest, with the settings that are the
    /// supervisor's taken out: no admin server, no sandbox of its own, no `max_bots`.
    ///
    /// The manifest is parsed again only when the supervisor read it again (a reload) or a
    /// lock id differs from `parsed`: an assignment that only moves bots, pauses or
    /// restarts one keeps the last parse (a worker of 3,333
    /// of 10,000 bots spent most of its start parsing the whole manifest for each
    /// assignment while its bots came in).
    private func manifest(
        for assignment: WorkerAssignment, parsed: inout ParsedManifest?, environment: [String: String],
        reporter: WorkerReporter
    ) -> Manifest? {
        if parsed?.matches(assignment) != true {
            do {
                let manifest = try Manifest.parse(
                    yaml: assignment.manifestText, file: assignment.manifestFile,
                    baseDirectory: Manifest.directory(containing: assignment.manifestFile), environment: environment,
                    plugins: Set(plugins.map { $0.name }))
                parsed = ParsedManifest(
                    revision: assignment.manifestRevision, manifest: manifest,
                    locks: Dictionary(manifest.bots.map { ($0.name, $0.lockID.hex) }) { first, _ in first })
            } catch {
                for problem in error.problems { logger.error("worker: \(problem.description)") }
                return nil
            }
        }
        guard var manifest = parsed?.manifest else { return nil }
        let sandbox = assignment.sandboxURL.map(APIEndpoint.url)
        if manifest.apiURL == .sandbox, let sandbox { manifest.apiURL = sandbox }
        var bots: [BotConfiguration] = []
        for var bot in manifest.bots {
            guard let lock = assignment.bots[bot.name] else { continue }
            // A token file changed since the supervisor read the manifest: this is not the bot
            // whose lock the supervisor holds.
            guard bot.lockID.hex == lock else {
                let reason = "the bot's token changed since the host read the manifest; reload it (SIGHUP)"
                reporter.refuse(bot.name, summary: "token changed", reason: reason)
                logger.error("\(reason)", metadata: ["bot": "\(bot.name)"])
                continue
            }
            if bot.apiURL == .sandbox, let sandbox { bot.apiURL = sandbox }
            bots.append(bot)
        }
        manifest.bots = bots
        manifest.admin = nil
        manifest.maxBots = nil
        manifest.isolation.mode = .none
        return manifest
    }
}
