public import ArgumentParser
import BotHostKit
import Foundation
public import Logging
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
        // First of all: from here on a SIGTERM stops the host gracefully, however early.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let format = logFormat
        let level = logLevel
        LoggingSystem.bootstrap { _ in LogLineHandler(format: format, level: level) }
        let manifest: Manifest
        do {
            manifest = try Manifest.load(path: self.manifest, environment: ProcessInfo.processInfo.environment, plugins: plugins)
        } catch {
            for problem in error.problems { printError(problem.description) }
            return .usage
        }
        if let problem = OpenFileLimit.problem(running: manifest, limit: OpenFileLimit.current) {
            printError(problem)
            return .usage
        }
        let logger = Logger(label: "bothost")
        BotHost.warnUnlessJobsRunOnEventLoops(logger)
        let role: HostRole =
            switch manifest.isolation.mode {
            case .process:
                .supervisor(WorkerLauncher(loggingArguments: ["--log-format", format.rawValue, "--log-level", level.rawValue]))
            case .none: .standalone
            }
        let host = Host(manifest: manifest, plugins: plugins, environment: HostEnvironment(logger: logger), role: role)
        let path = self.manifest
        return await host.runHandlingSignals(signals) { () throws(ManifestError) in
            try Manifest.load(path: path, environment: ProcessInfo.processInfo.environment, plugins: plugins)
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
