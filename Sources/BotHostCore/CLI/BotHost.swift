import ArgumentParser
public import BotHostKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The `bothost` command line, for any set of plugins.
///
/// The bundled `bothost` executable is one line: `await BotHost.main(plugins: [Echo.self, ...])`.
/// A plugin author's own executable does the same with their plugins and gets the whole
/// CLI (`run`, `validate`, `status`, `dead-letters`, `ctl`, `emulator`).
public enum BotHost {
    /// Parses the process's arguments, runs the command and exits with its status.
    ///
    /// Swift Concurrency's jobs run on NIO's event loop threads, where every HTTP call of
    /// every bot does its I/O: otherwise each call hops from a concurrency thread to an
    /// event loop and back, and those thread switches cost about a tenth of the host's
    /// CPU per update (measured with `bothost-bench`). A plugin that blocks its thread
    /// now blocks an event loop, as it blocked one of as few concurrency threads before.
    /// Done first, before any other task exists, as NIO requires (a worker process takes
    /// its share of the cores: ``WorkerCommand/eventLoops``). Then the limit of open
    /// files is raised to its hard value (``OpenFileLimit``), and SIGPIPE is ignored: a
    /// write to the pipe of a worker process that just died must fail, not kill the host.
    public static func main(plugins: [any BotPlugin.Type]) async -> Never {
        if let loops = WorkerCommand.eventLoops(in: CommandLine.arguments) {
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        jobsOnEventLoops.withLock {
            $0 = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        OpenFileLimit.raiseToHard()
        signal(SIGPIPE, SIG_IGN)
        let status = await run(arguments: Array(CommandLine.arguments.dropFirst()), plugins: plugins)
        exit(status.rawValue)
    }

    /// Whether ``main(plugins:)`` moved Swift Concurrency's jobs onto NIO's event loops;
    /// `nil` when the command line runs without it (in tests).
    private static let jobsOnEventLoops = Mutex<Bool?>(nil)

    /// Logs a warning when ``main(plugins:)`` could not move Swift Concurrency's jobs onto
    /// NIO's event loops: NIO found no executor hook in the Swift runtime (a runtime linked
    /// statically does not export it), or another executor was installed first. The host
    /// works, each call hopping between threads. Said once, by the process the operator
    /// started: its workers run the same executable.
    static func warnUnlessJobsRunOnEventLoops(_ logger: Logger) {
        guard jobsOnEventLoops.withLock({ $0 }) == false else { return }
        logger.warning(
            "Swift Concurrency's jobs run on threads of their own, not on NIO's event loops (no executor hook in the Swift runtime, as in a static build, or another executor installed): each Bot API call hops between threads, about a tenth more CPU per update"
        )
    }

    /// Runs one command line; returns the exit status instead of exiting.
    public static func run(arguments: [String], plugins: [any BotPlugin.Type]) async -> ExitStatus {
        let command: any ParsableCommand
        do {
            command = try BotHostCommand.parseAsRoot(arguments)
        } catch {
            return report(error)
        }
        switch command {
        case let run as RunCommand: return await run.execute(plugins: plugins)
        case let validate as ValidateCommand: return validate.execute(plugins: plugins)
        case let status as StatusCommand: return await status.execute(plugins: plugins)
        case let emulator as EmulatorCommand: return await emulator.execute()
        case let deadLetters as DeadLettersCommand: return await deadLetters.execute(plugins: plugins)
        case let worker as WorkerCommand: return await worker.execute(plugins: plugins)
        case let control as any ControlSubcommand: return await control.execute()
        default:
            // `help`, `--help` and friends: ArgumentParser's own commands, which throw the
            // text to print.
            do {
                var builtIn = command
                try builtIn.run()
                return .success
            } catch {
                return report(error)
            }
        }
    }

    /// Prints a parse error (exit 2) or a help text (exit 0).
    private static func report(_ error: any Error) -> ExitStatus {
        let message = BotHostCommand.fullMessage(for: error)
        if BotHostCommand.exitCode(for: error) == .success {
            print(message)
            return .success
        }
        printError(message)
        return .usage
    }
}

struct BotHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bothost",
        abstract: "Host many Telegram bots in one process, from one YAML manifest.",
        discussion: """
            Exit codes: 0 clean stop or success; 1 a bot failed; 2 manifest or usage error; \
            3 a bot's lock is held elsewhere and on_locked is fail; 4 state_dir cannot hold the \
            update journals.
            """,
        subcommands: [
            RunCommand.self, ValidateCommand.self, StatusCommand.self, DeadLettersCommand.self, ControlCommand.self,
            EmulatorCommand.self, WorkerCommand.self,
        ]
    )
}

/// Prints to stderr, where every diagnostic of `bothost` goes.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
