import ArgumentParser
import BotHostKit
import Foundation
import Logging

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List locks: lock id, bot, held or free, holder pid, since.",
        discussion: """
            Reads only: it never takes or disturbs a lock. Lists the lock files of a directory; \
            with --manifest of a postgres manifest, every bot of it as the lock database shows \
            it (pg_locks), with the holder's pid and host.
            """
    )

    @Option(help: "The lock directory (default: the manifest's, else $XDG_RUNTIME_DIR/bothost or /tmp/bothost-<uid>).")
    var lockDir: String?

    @Option(help: "Take the lock directory, or the lock database, from this manifest.")
    var manifest: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func execute(plugins: [any BotPlugin.Type]) async -> ExitStatus {
        let environment = ProcessInfo.processInfo.environment
        var directory = lockDir ?? LockSettings.defaultFileDirectory(environment: environment)
        if let manifest, lockDir == nil {
            let loaded: Manifest
            do {
                loaded = try Manifest.load(
                    path: manifest, environment: environment, plugins: Set(plugins.map { $0.name }), secrets: .optional)
            } catch {
                for problem in error.problems { printError(problem.description) }
                return .usage
            }
            switch loaded.lock {
            case .file(let manifestDirectory):
                directory = manifestDirectory
            case .postgres(let url, let passwordFile):
                return await printDatabaseStatuses(of: loaded, url: url, passwordFile: passwordFile, environment: environment)
            }
        }
        do {
            let statuses = try FileTokenLock.statuses(directory: directory)
            print(report(statuses), terminator: "")
            if statuses.isEmpty { printError(whyEmpty(directory: directory)) }
            return .success
        } catch {
            printError("\(error)")
            return .usage
        }
    }

    /// A lock database that cannot be read leaves the statuses unknown: exit 1.
    private func printDatabaseStatuses(
        of manifest: Manifest, url: String, passwordFile: String?, environment: [String: String]
    ) async -> ExitStatus {
        let database: LockDatabase
        do {
            database = try LockDatabase(url: url, passwordFile: passwordFile, environment: environment)
        } catch {
            printError("\(manifest.file): lock: \(error)")
            return .usage
        }
        for bot in manifest.bots {
            if let note = bot.unavailableToken {
                printError("\(note.location): \(note.path): note: \(note.message): bot \(bot.name) is not listed")
            }
        }
        do {
            let statuses = try await PostgresTokenLock.statuses(
                of: manifest.bots.filter { $0.unavailableToken == nil }.map { ($0.name, $0.lockID) }, database: database,
                logger: Logger(label: "bothost.status") { _ in SwiftLogNoOpLogHandler() })
            print(report(statuses), terminator: "")
            return .success
        } catch {
            printError("\(error)")
            return .botFailed
        }
    }

    /// An empty list is most often the wrong place: say which place it was.
    private func whyEmpty(directory: String) -> String {
        if lockDir != nil || manifest != nil { return "no lock files in \(directory): no bot of it is running" }
        return "no lock files in \(directory), the default lock directory: no host is running with it; "
            + "a manifest with its own lock.dir or a postgres lock needs --manifest FILE (or --lock-dir DIR)"
    }

    private func report(_ statuses: [LockStatus]) -> String {
        json ? LockStatusReport.json(statuses) : LockStatusReport.table(statuses)
    }
}
