import ArgumentParser
import BotHostKit
import Logging
import UnixSignals

/// `bothost worker`: one worker process of a supervisor (``Worker``). Hidden: only
/// `bothost run` starts it, with the assignment on standard input.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the bots a supervising `bothost run` assigns (started by it, not by hand).",
        shouldDisplay: false
    )

    @Option(help: "The worker's number, for its log lines.")
    var index: Int

    @Option(help: "Log line format: logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "Lowest level logged.")
    var logLevel: Logger.Level = .info

    func execute(plugins: [any BotPlugin.Type]) async -> ExitStatus {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let format = logFormat
        let level = logLevel
        LoggingSystem.bootstrap { _ in LogLineHandler(format: format, level: level) }
        var logger = Logger(label: "bothost")
        logger[metadataKey: "worker"] = "\(index)"
        return await Worker(plugins: plugins, logger: logger).run(signals: signals)
    }
}
