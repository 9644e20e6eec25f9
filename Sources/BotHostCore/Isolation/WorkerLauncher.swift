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

    /// `bothost worker --index N …`.
    func arguments(index: Int) -> [String] {
        ["worker", "--index", "\(index)"] + loggingArguments
    }
}
