import ArgumentParser
import BotHostKit
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List lock files: lock id, bot, held or free, holder pid, since.",
        discussion: "Reads only: it never takes or disturbs a lock."
    )

    @Option(help: "The lock directory (default: the manifest's, else $XDG_RUNTIME_DIR/bothost or /tmp/bothost-<uid>).")
    var lockDir: String?

    @Option(help: "Take the lock directory from this manifest.")
    var manifest: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func execute(plugins: [any BotPlugin.Type]) -> ExitStatus {
        let environment = ProcessInfo.processInfo.environment
        var directory = lockDir ?? LockSettings.defaultFileDirectory(environment: environment)
        if let manifest, lockDir == nil {
            do {
                let loaded = try Manifest.load(path: manifest, environment: environment, plugins: Set(plugins.map { $0.name }))
                guard case .file(let manifestDirectory) = loaded.lock else {
                    printError("\(manifest): status reads lock files; this manifest uses lock.backend: postgres")
                    return .usage
                }
                directory = manifestDirectory
            } catch {
                for problem in error.problems { printError(problem.description) }
                return .usage
            }
        }
        do {
            let statuses = try FileTokenLock.statuses(directory: directory)
            print(json ? LockStatusReport.json(statuses) : LockStatusReport.table(statuses), terminator: "")
            return .success
        } catch {
            printError("\(error)")
            return .usage
        }
    }
}
