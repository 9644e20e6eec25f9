import ArgumentParser
import BotHostKit
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest and list its bots (never their tokens).",
        discussion: "Exit 0 if valid; 2 with one FILE:LINE:COL: path: message line per problem otherwise."
    )

    @Argument(help: "The manifest, such as bots.yaml.")
    var manifest: String

    func execute(plugins: [any BotPlugin.Type]) -> ExitStatus {
        do {
            let manifest = try Manifest.load(
                path: self.manifest, environment: ProcessInfo.processInfo.environment, plugins: Set(plugins.map { $0.name }))
            print(Self.table(of: manifest))
            return .success
        } catch {
            for problem in error.problems { printError(problem.description) }
            return .usage
        }
    }

    static func table(of manifest: Manifest) -> String {
        let header = ["NAME", "PLUGIN", "LOCK ID", "API URL", "RETRY"]
        let rows = manifest.bots.map { bot in
            let retry = bot.retry
            return [
                bot.name, bot.plugin, bot.lockID.hex, bot.apiURL.description,
                "max_retries=\(retry.maxRetriesDescription) initial=\(formatDuration(retry.initialDelay)) "
                    + "max=\(formatDuration(retry.maxDelay)) factor=\(retry.backoffFactor) jitter=\(retry.jitter)",
            ]
        }
        return renderTable(header: header, rows: rows)
            + "\n\(manifest.file): valid, \(manifest.bots.count) bot\(manifest.bots.count == 1 ? "" : "s")"
    }
}
