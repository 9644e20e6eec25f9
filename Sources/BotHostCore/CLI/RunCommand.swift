import ArgumentParser
import BotHostKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Host the manifest's bots until SIGTERM or SIGINT.",
        discussion: """
            A first SIGTERM/SIGINT stops every bot gracefully: pending polls end at once, fetched updates \
            are finished, offsets confirmed, shutdown hooks run, locks released. A second one exits at once.
            """
    )

    @Argument(help: "The manifest, such as bots.yaml.")
    var manifest: String

    @Option(help: "Log line format: logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func execute(plugins: [any BotPlugin.Type]) async -> ExitStatus {
        let format = logFormat
        let level = logLevel
        LoggingSystem.bootstrap { _ in LogLineHandler(format: format, level: level) }
        let manifest: Manifest
        do {
            manifest = try Manifest.load(
                path: self.manifest, environment: ProcessInfo.processInfo.environment, plugins: Set(plugins.map { $0.name }))
        } catch {
            for problem in error.problems { printError(problem.description) }
            return .usage
        }
        let logger = Logger(label: "bothost")
        let host = Host(manifest: manifest, plugins: plugins, environment: HostEnvironment(logger: logger))
        let reloads = Task { await reloadOnHangup(host, plugins: plugins, logger: logger) }
        defer { reloads.cancel() }
        let service = HostService(host: host, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "bothost.lifecycle") { _ in SwiftLogNoOpLogHandler() }
            ))
        do {
            try await group.run()
        } catch {
            logger.error("host failed: \(error)")
            return .botFailed
        }
        return service.exitStatus
    }
}

extension RunCommand {
    /// SIGHUP reloads the manifest; an invalid one is logged and the running bots are kept.
    private func reloadOnHangup(_ host: Host, plugins: [any BotPlugin.Type], logger: Logger) async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            logger.info("reload: SIGHUP, reading \(manifest)")
            do {
                let reloaded = try Manifest.load(
                    path: manifest, environment: ProcessInfo.processInfo.environment, plugins: Set(plugins.map { $0.name }))
                await host.reload(reloaded)
            } catch {
                for problem in error.problems { logger.error("reload: \(problem.description)") }
                logger.error("reload: the manifest has \(error.problems.count) problems; keeping the running bots")
            }
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The host as a service of swift-service-lifecycle, which turns SIGTERM and SIGINT into
/// a graceful shutdown.
///
/// One service for all bots, on purpose: the library shuts services down one at a time,
/// and bots stopped one by one would each wait for the one before. The shutdown handler
/// only asks the host to stop; the host stops every bot at once. From then on a second
/// signal exits at once, and `shutdown.timeout` bounds the whole stop.
final class HostService: Service, Sendable {
    private let host: Host
    private let logger: Logger
    private let status = Mutex(ExitStatus.success)

    init(host: Host, logger: Logger) {
        self.host = host
        self.logger = logger
    }

    var exitStatus: ExitStatus { status.withLock { $0 } }

    func run() async throws {
        let host = self.host
        let logger = self.logger
        let result = await withGracefulShutdownHandler {
            await host.run()
        } onGracefulShutdown: {
            host.requestStop()
            Self.exitOnSecondSignal(logger: logger)
            Self.exitAfter(host.manifest.shutdown.timeout, logger: logger)
        }
        status.withLock { $0 = result }
    }

    private static func exitOnSecondSignal(logger: Logger) {
        Task {
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                logger.warning("second \(signal): exiting at once; the kernel releases the locks")
                exit(ExitStatus.botFailed.rawValue)
            }
        }
    }

    private static func exitAfter(_ timeout: Duration, logger: Logger) {
        Task {
            try await Task.sleep(for: timeout)
            logger.error("shutdown took longer than shutdown.timeout (\(formatDuration(timeout))): exiting now")
            exit(ExitStatus.botFailed.rawValue)
        }
    }
}
