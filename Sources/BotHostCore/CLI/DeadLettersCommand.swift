import ArgumentParser
import BotHostKit
import Foundation

struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List, replay or discard the updates set aside after their tries ran out.",
        discussion: """
            A dead letter's id is BOT-SEQUENCE, such as support-42. --replay hands dead letters \
            back to their bot with their tries counted afresh: a running host picks them up \
            within seconds, or the bot's next run does. Exit 0; 2 for an unknown id or bot \
            (nothing is changed then); 1 when a journal cannot be read.
            """
    )

    @Argument(help: "The manifest, such as bots.yaml.")
    var manifest: String

    @Option(help: "Only this bot's dead letters.")
    var bot: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(parsing: .upToNextOption, help: "Hand these dead letters back to their bots.")
    var replay: [String] = []

    @Flag(help: "Hand every dead letter (of --bot, if given) back to its bot.")
    var replayAll = false

    @Option(parsing: .upToNextOption, help: "Delete these dead letters.")
    var discard: [String] = []

    func validate() throws {
        let actions = [!replay.isEmpty, replayAll, !discard.isEmpty].filter { $0 }.count
        guard actions <= 1 else { throw ValidationError("give one of --replay, --replay-all and --discard") }
        guard !json || actions == 0 else {
            throw ValidationError("--json lists dead letters; it does not go with --replay, --replay-all or --discard")
        }
    }

    func execute(plugins: [any BotPlugin.Type]) async -> ExitStatus {
        let environment = ProcessInfo.processInfo.environment
        let loaded: Manifest
        do {
            loaded = try Manifest.load(path: manifest, environment: environment, plugins: Set(plugins.map { $0.name }))
        } catch {
            for problem in error.problems { printError(problem.description) }
            return .usage
        }
        var bots = loaded.bots
        if let bot {
            bots = bots.filter { $0.name == bot }
            guard !bots.isEmpty else {
                printError("\(loaded.file): no bot named '\(bot)'")
                return .usage
            }
        }
        let journals: any JournalStorage
        do {
            journals = try LockService(for: loaded, environment: HostEnvironment(logger: .init(label: "bothost"))).journals
        } catch {
            printError("\(loaded.file): \(error)")
            return error is JournalError ? .journalUnusable : .botFailed
        }
        let status = await execute(on: bots, journals: journals)
        await journals.shutdown()
        return status
    }

    private func execute(on bots: [BotConfiguration], journals: any JournalStorage) async -> ExitStatus {
        let catalog = DeadLetterCatalog(bots: bots, journals: journals, scope: bot.map { " (--bot \($0))" } ?? " in the manifest")
        do {
            if !replay.isEmpty || !discard.isEmpty {
                let ids = replay.isEmpty ? discard : replay
                try await catalog.apply(replay.isEmpty ? .discard : .replay, to: ids)
                print("\(replay.isEmpty ? "discarded" : "handed back") \(ids.count) dead letter\(ids.count == 1 ? "" : "s")")
            } else if replayAll {
                let count = try await catalog.replayAll()
                print("handed \(count) dead letter\(count == 1 ? "" : "s") back to their bots")
            } else {
                let rows = try await catalog.list().map(\.row)
                print(json ? DeadLetterRow.json(rows) : DeadLetterRow.table(rows))
            }
            return .success
        } catch let unknown as DeadLetterCatalog.UnknownID {
            printError(unknown.description)
            return .usage
        } catch {
            printError("\(error)")
            return .botFailed
        }
    }
}
