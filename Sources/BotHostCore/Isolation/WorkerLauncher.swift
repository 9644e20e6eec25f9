import Foundation

/// How the supervisor starts a worker: the executable that is running (so that a custom
/// host built with `BotHost.main(plugins:)` starts itself, with its own plugins) and the
/// logging options of `bothost run`.
package struct WorkerLauncher: Sendable {
    /// `/proc/self/exe`, which the kernel resolves to the supervisor's own executable, even
    /// after a deploy replaced or removed the file at its path: a worker never runs
    /// another version than its supervisor.
    let executable = "/proc/self/exe"
    /// `--log-format …` and `--log-level …`, as `bothost run` was given them.
    let loggingArguments: [String]

    package init(loggingArguments: [String]) {
        self.loggingArguments = loggingArguments
    }

    /// `bothost worker --index N --event-loops L …`: `L` is the worker's share of the
    /// cores among `workers`, at least one.
    func arguments(index: Int, workers: Int) -> [String] {
        let loops = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, workers))
        return ["worker", "--index", "\(index)", "--event-loops", "\(loops)"] + loggingArguments
    }
}
