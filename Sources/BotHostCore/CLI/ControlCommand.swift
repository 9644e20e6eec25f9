import ArgumentParser
import Foundation
import NIOHTTP1

/// `bothost ctl`: the control API of a running host, from the command line.
///
/// Each subcommand is one request to the host's admin server (``AdminClient``). Output is
/// a table or a line on stdout (`--json`: the API's own JSON); a failure is one line on
/// stderr. Exit 0 when done; 1 when the host could not do it (unreachable, the bot's state
/// does not allow it); 2 for a usage problem: a bot or dead letter the host does not
/// know, a missing or wrong token, an invalid manifest on reload.
struct ControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Operate a running host: list, pause, resume and restart bots, replay dead letters, reload.",
        discussion: """
            Talks to the admin server of `bothost run` (admin.listen). Changes need the token of \
            admin.token_file (--token-file). Exit 0 when done; 1 when the host could not do it; \
            2 for an unknown bot or dead letter, a missing or wrong token, or an invalid manifest.
            """,
        subcommands: [Bots.self, Pause.self, Resume.self, Restart.self, DeadLetters.self, Replay.self, Reload.self]
    )

    /// Where the host is and how to prove the right to change it.
    struct Connection: ParsableArguments {
        @Option(help: "The admin server: admin.listen of the manifest.")
        var admin = "http://127.0.0.1:9464"

        @Option(help: "The file that holds the control API's token (admin.token_file); needed for changes.")
        var tokenFile: String?

        @Flag(help: "Print the API's JSON instead of a table or a line.")
        var json = false

        /// The client, or a one-line reason why the token file cannot be read.
        func client() throws(AdminClient.Failure) -> AdminClient {
            guard let tokenFile else { return AdminClient(admin: admin, token: nil) }
            switch TextFile.contents(atPath: tokenFile, maxBytes: ManifestLoader.maxTokenFileSize) {
            case .success(let text):
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if let problem = AdminToken.problem(with: token) {
                    throw AdminClient.Failure(message: "token file \(tokenFile) \(problem)", status: .usage)
                }
                return AdminClient(admin: admin, token: token)
            case .failure(let error):
                throw AdminClient.Failure(message: "cannot read token file \(tokenFile): \(error)", status: .usage)
            }
        }
    }
}

/// A `bothost ctl` subcommand: one or more requests, and what to print of them.
protocol ControlSubcommand: ParsableCommand {
    var connection: ControlCommand.Connection { get }
    func perform(with client: AdminClient) async throws(AdminClient.Failure)
}

extension ControlSubcommand {
    func execute() async -> ExitStatus {
        do {
            try await perform(with: try connection.client())
            return .success
        } catch {
            for problem in error.problems { printError(problem) }
            printError(error.message)
            return error.status
        }
    }

    /// Prints `value` as the API's JSON: keys sorted, times in ISO 8601.
    func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
    }
}

extension ControlCommand {
    struct Bots: ControlSubcommand {
        static let configuration = CommandConfiguration(abstract: "List the host's bots: state, worker, rates, counters.")

        @OptionGroup var connection: Connection

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            let list = try await client.send(.GET, "/bots", as: BotList.self)
            if connection.json { return printJSON(list) }
            let rows = list.bots.map { bot in
                [
                    bot.name, bot.shownState, bot.workerPID.map(String.init) ?? "-", String(format: "%.2f", bot.updatesPerSecond),
                    "\(bot.updatesHandled)", "\(bot.handlerErrors)", "\(bot.rateLimited)", "\(bot.conflicts)",
                    bot.backlog.map(String.init) ?? "-", bot.deadLetters.map(String.init) ?? "-", bot.lastError ?? "",
                ]
            }
            print(
                renderTable(
                    header: [
                        "NAME", "STATE", "WORKER", "UPDATES/S", "HANDLED", "ERRORS", "429S", "409S", "BACKLOG", "DEAD",
                        "LAST ERROR",
                    ],
                    rows: rows))
            let counts = Dictionary(grouping: list.bots, by: \.state).map { "\($0.value.count) \($0.key)" }.sorted()
            print(
                "\(list.bots.count) bot\(list.bots.count == 1 ? "" : "s")\(counts.isEmpty ? "" : ": ")\(counts.joined(separator: ", "))"
            )
        }
    }

    struct Pause: ControlSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop taking updates (no getUpdates; Telegram keeps them); the lock stays held.")

        @OptionGroup var connection: Connection
        @Argument(help: "The bots to pause.") var names: [String]

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            try await forEach(names) { name throws(AdminClient.Failure) in try await change(name, "pause", with: client) }
        }
    }

    struct Resume: ControlSubcommand {
        static let configuration = CommandConfiguration(abstract: "Take updates again, those that waited included.")

        @OptionGroup var connection: Connection
        @Argument(help: "The bots to resume.") var names: [String]

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            try await forEach(names) { name throws(AdminClient.Failure) in try await change(name, "resume", with: client) }
        }
    }

    struct Restart: ControlSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the bots' stop sequences (shutdown hooks included) and start them again; a failed bot starts afresh.")

        @OptionGroup var connection: Connection
        @Argument(help: "The bots to restart.") var names: [String]

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            try await forEach(names) { name throws(AdminClient.Failure) in try await change(name, "restart", with: client) }
        }
    }

    struct DeadLetters: ControlSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "List the dead letters of the host's bots.")

        @OptionGroup var connection: Connection

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            let rows = try await client.send(.GET, "/dead-letters", as: [DeadLetterRow].self)
            if connection.json { return printJSON(rows) }
            print(DeadLetterRow.table(rows))
        }
    }

    struct Replay: ControlSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand dead letters back to their bots, which try them again within 30 s.")

        @OptionGroup var connection: Connection
        @Argument(help: "Dead letter ids, such as support-42 (bothost ctl dead-letters lists them).") var ids: [String]

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            try await forEach(ids) { id throws(AdminClient.Failure) in
                let answer = try await client.send(.POST, "/dead-letters/\(escaped(id))/replay", as: [String: String].self)
                if connection.json { printJSON(answer) } else { print("\(id): handed back") }
            }
        }
    }

    struct Reload: ControlSubcommand {
        static let configuration = CommandConfiguration(abstract: "Read the manifest again and apply it, as SIGHUP does.")

        @OptionGroup var connection: Connection

        func perform(with client: AdminClient) async throws(AdminClient.Failure) {
            // Bots that a reload stops run their stop sequences first: allow for them.
            let summary = try await client.send(.POST, "/reload", as: ReloadSummary.self, timeout: .seconds(120))
            if connection.json { return printJSON(summary) }
            print("reloaded: \(summary)")
        }
    }
}

extension ControlSubcommand {
    /// Runs `body` for each of `names`, going on past a failure: `ctl pause a b c` with `b`
    /// unknown still pauses `c`. Every failure but the last is printed here; the last is
    /// thrown with the highest exit status of them all.
    fileprivate func forEach(
        _ names: [String], _ body: (String) async throws(AdminClient.Failure) -> Void
    ) async throws(AdminClient.Failure) {
        var failures: [AdminClient.Failure] = []
        for name in names {
            do throws(AdminClient.Failure) {
                try await body(name)
            } catch {
                failures.append(error)
            }
        }
        guard var last = failures.popLast() else { return }
        for failure in failures {
            for problem in failure.problems { printError(problem) }
            printError(failure.message)
        }
        last.status = failures.map(\.status).reduce(last.status) { $0.rawValue >= $1.rawValue ? $0 : $1 }
        throw last
    }

    /// `POST /bots/NAME/ACTION`, and the bot's state after it.
    fileprivate func change(_ name: String, _ action: String, with client: AdminClient) async throws(AdminClient.Failure) {
        let row = try await client.send(.POST, "/bots/\(escaped(name))/\(action)", as: BotRow.self)
        if connection.json { return printJSON(row) }
        print("\(row.name): \(row.shownState)")
    }

    /// A path segment as typed, but for the characters a URL path cannot hold.
    fileprivate func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? segment
    }
}
