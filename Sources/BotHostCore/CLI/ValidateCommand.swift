import ArgumentParser
import BotHostKit
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest and list its bots (never their tokens).",
        discussion: """
            Exit 0 if valid; 2 with one FILE:LINE:COL: path: message line per problem otherwise. \
            Plugin settings are decoded as their plugins' types. A token that is not on this \
            machine (an unset token_env, a missing token_file) is a note, not a problem, unless \
            --require-secrets is given.
            """
    )

    @Argument(help: "The manifest, such as bots.yaml.")
    var manifest: String

    @Flag(help: "Every token must be at hand, as `bothost run` needs (for deploy scripts).")
    var requireSecrets = false

    func execute(plugins: [any BotPlugin.Type]) -> ExitStatus {
        do {
            let manifest = try Manifest.load(
                path: self.manifest, environment: ProcessInfo.processInfo.environment, plugins: plugins,
                secrets: requireSecrets ? .required : .optional)
            print(Self.table(of: manifest))
            for bot in manifest.bots {
                if let note = bot.unavailableToken { printError("\(note.location): \(note.path): note: \(note.message)") }
            }
            if let note = manifest.admin?.unavailableToken {
                printError("\(note.location): \(note.path): note: \(note.message); bothost run needs it")
            }
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
                bot.name, bot.plugin, bot.unavailableToken == nil ? bot.lockID.hex : "(token not here)", bot.apiURL.description,
                "max_retries=\(retry.maxRetriesDescription) initial=\(formatDuration(retry.initialDelay)) "
                    + "max=\(formatDuration(retry.maxDelay)) factor=\(retry.backoffFactor) jitter=\(retry.jitter)",
            ]
        }
        let unavailable = manifest.bots.filter { $0.unavailableToken != nil }.count
        let secrets = unavailable == 0 ? "" : " (\(unavailable) without \(unavailable == 1 ? "its token" : "their tokens") here)"
        return renderTable(header: header, rows: rows)
            + "\n\(manifest.file): valid, \(manifest.bots.count) bot\(manifest.bots.count == 1 ? "" : "s")\(secrets)"
    }
}
