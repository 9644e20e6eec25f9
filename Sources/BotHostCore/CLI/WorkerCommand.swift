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

    @Option(help: "Event loop threads: the worker's share of the cores.")
    var eventLoops: Int = 1

    @Option(help: "Log line format: logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "Lowest level logged.")
    var logLevel: Logger.Level = .info

    /// `--event-loops N` of a `bothost worker` command line, read before anything runs:
    /// workers that share the cores take one event loop per core between them, as the
    /// switching among more threads than cores cost a third more CPU per update
    /// (measured with `bothost-bench`, 2 workers on 2 cores).
    static func eventLoops(in arguments: [String]) -> Int? {
        guard arguments.dropFirst().first == configuration.commandName,
            let flag = arguments.firstIndex(of: "--event-loops"), flag + 1 < arguments.count
        else { return nil }
        return Int(arguments[flag + 1]).map { max(1, $0) }
    }

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
