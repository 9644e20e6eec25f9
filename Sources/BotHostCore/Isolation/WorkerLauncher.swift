import Foundation

/// How the supervisor starts a worker: the executable that is running (so that a custom
/// host built with `BotHost.main(plugins:)` starts itself, with its own plugins) and the
/// logging options of `bothost run`.
package struct WorkerLauncher: Sendable {
    /// The absolute path of the executable.
    let executable: String
    /// `--log-format …` and `--log-level …`, as `bothost run` was given them.
    let loggingArguments: [String]

    /// The executable that is running, read from `/proc/self/exe`.
    package init(loggingArguments: [String]) {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        self.executable = path
        self.loggingArguments = loggingArguments
    }

    /// `bothost worker --index N --event-loops L …`: `L` is the worker's share of the
    /// cores among `workers`, at least one.
    func arguments(index: Int, workers: Int) -> [String] {
        let loops = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, workers))
        return ["worker", "--index", "\(index)", "--event-loops", "\(loops)"] + loggingArguments
    }
}
