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
        do {
            if !replay.isEmpty || !discard.isEmpty {
                return try await change(ids: replay.isEmpty ? discard : replay, in: bots, journals: journals)
            }
            let letters = try await list(bots, journals: journals)
            if replayAll {
                for group in Dictionary(grouping: letters, by: \.bot.name).values {
                    try await withStore(of: group[0].bot, journals: journals) {
                        try await $0.replay(group.map(\.letter.sequence))
                    }
                }
                print("handed \(letters.count) dead letter\(letters.count == 1 ? "" : "s") back to their bots")
            } else {
                print(json ? Self.json(letters) : Self.table(letters))
            }
            return .success
        } catch {
            printError("\(error)")
            return .botFailed
        }
    }

    /// A dead letter and its bot.
    private struct Listed {
        var bot: BotConfiguration
        var letter: DeadLetter
        var id: String { "\(bot.name)-\(letter.sequence)" }
    }

    private func list(_ bots: [BotConfiguration], journals: any JournalStorage) async throws -> [Listed] {
        var listed: [Listed] = []
        for bot in bots {
            guard let store = try await journals.deadLetters(of: bot.lockID) else { continue }
            let letters = try await store.deadLetters()
            await store.close()
            listed += letters.map { Listed(bot: bot, letter: $0) }
        }
        return listed
    }

    /// Replays or discards dead letters by id, every id checked before anything changes.
    private func change(ids: [String], in bots: [BotConfiguration], journals: any JournalStorage) async throws -> ExitStatus {
        var byBot: [String: (bot: BotConfiguration, sequences: [Int64])] = [:]
        for id in ids {
            guard let dash = id.lastIndex(of: "-"), let sequence = Int64(id[id.index(after: dash)...]) else {
                printError("unknown dead letter '\(id)': expected BOT-SEQUENCE as listed by bothost dead-letters")
                return .usage
            }
            guard let bot = bots.first(where: { $0.name == id[..<dash] }) else {
                let scope = self.bot.map { " (--bot \($0))" } ?? " in the manifest"
                printError("unknown dead letter '\(id)': no bot named '\(id[..<dash])'\(scope)")
                return .usage
            }
            byBot[bot.name, default: (bot, [])].sequences.append(sequence)
        }
        for (bot, sequences) in byBot.values {
            guard let store = try await journals.deadLetters(of: bot.lockID) else {
                printError("unknown dead letter '\(bot.name)-\(sequences[0])': the bot has no journal")
                return .usage
            }
            let letters = Set(try await store.deadLetters().map(\.sequence))
            await store.close()
            if let unknown = sequences.first(where: { !letters.contains($0) }) {
                printError("unknown dead letter '\(bot.name)-\(unknown)'")
                return .usage
            }
        }
        for (bot, sequences) in byBot.values {
            try await withStore(of: bot, journals: journals) { store in
                if replay.isEmpty { try await store.discard(sequences) } else { try await store.replay(sequences) }
            }
        }
        print("\(replay.isEmpty ? "discarded" : "handed back") \(ids.count) dead letter\(ids.count == 1 ? "" : "s")")
        return .success
    }

    private func withStore(
        of bot: BotConfiguration, journals: any JournalStorage, _ body: (any DeadLetterStore) async throws -> Void
    ) async throws {
        guard let store = try await journals.deadLetters(of: bot.lockID) else { return }
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    private static func table(_ letters: [Listed]) -> String {
        let rows = letters.map {
            [
                $0.id, $0.bot.name, "\($0.letter.updateID)", $0.letter.chatID.map(String.init) ?? "-", "\($0.letter.attempts)",
                $0.letter.setAsideAt.formatted(.iso8601), $0.letter.reason,
            ]
        }
        return renderTable(header: ["ID", "BOT", "UPDATE_ID", "CHAT", "TRIES", "TIME", "REASON"], rows: rows)
            + "\n\(letters.count) dead letter\(letters.count == 1 ? "" : "s")"
    }

    private static func json(_ letters: [Listed]) -> String {
        struct Row: Encodable {
            var id: String
            var bot: String
            var updateID: Int64
            var chat: Int64?
            var reason: String
            var tries: Int
            var time: Date

            enum CodingKeys: String, CodingKey {
                case id, bot, chat, reason, tries, time
                case updateID = "update_id"
            }

            /// Every key, `chat` as `null` for an update of no chat.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(bot, forKey: .bot)
                try container.encode(updateID, forKey: .updateID)
                try container.encode(chat, forKey: .chat)
                try container.encode(reason, forKey: .reason)
                try container.encode(tries, forKey: .tries)
                try container.encode(time, forKey: .time)
            }
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let rows = letters.map {
            Row(
                id: $0.id, bot: $0.bot.name, updateID: $0.letter.updateID, chat: $0.letter.chatID, reason: $0.letter.reason,
                tries: $0.letter.attempts, time: $0.letter.setAsideAt)
        }
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
