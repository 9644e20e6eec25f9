import ArgumentParser
import BotAPIEmulator
import Foundation
import Logging
import TelegramBotAPI
import UnixSignals

struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run the Telegram Bot API emulator on 127.0.0.1.",
        discussion: """
            Bots call it like Telegram: POST http://127.0.0.1:PORT/bot<TOKEN>/<method> (getMe, getUpdates, \
            sendMessage, getWebhookInfo, deleteWebhook, setWebhook). Unknown tokens get 401. The real server's \
            queue rules hold: a random first update_id, far offsets ignored, a repeated offset answered with one \
            update and a timeout of at least 3 s, setWebhook at most once a second. With --limits telegram, \
            messages past Telegram's sending limits (30/s per bot, 1/s per chat with a burst of 3, 20/m per \
            group) are answered 429 with retry_after.

            Control API (JSON body or query parameters; every call names the bot by "token"):
              POST /control/bots      {"token", "username"?}               register a bot
              POST /control/messages  {"token", "text", "user_id"?, "chat_id"?}  a user writes to the bot
              POST /control/updates   {"token", "kind", "payload"}          any update, e.g. kind callback_query
              POST /control/faults    {"token", "method", "fault", "count"?, "retry_after"?, "status"?, "delay_ms"?}
                                      fault: rate_limited | server_error | delay | drop_connection | malformed_json
              POST /control/webhook   {"token", "url"}                      set ("" clears) a webhook
              POST /control/restart_sequence {"token", "first_update_id"?}  number the next updates anew
              GET  /control/sent?token=...                                  messages the bot sent
              GET  /control/calls?token=...                                 the bot's getUpdates calls and outcomes
              GET  /control/rate_limited?token=...                          how many calls were answered 429

            Example:
              curl -s localhost:PORT/control/messages -d '{"token":"123:abc","text":"hi"}'
            """
    )

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8081

    @Option(help: "A file with one bot token per line to register at start.")
    var tokens: String?

    @Option(help: "Sending limits to answer 429 past: telegram or off.")
    var limits: EmulatorLimits = .off

    /// The limits `--limits` names.
    enum EmulatorLimits: String, ExpressibleByArgument, CaseIterable {
        case telegram
        case off

        var rateLimits: RateLimits {
            switch self {
            case .telegram: .telegram
            case .off: .off
            }
        }
    }

    func execute() async -> ExitStatus {
        let emulator = BotAPIEmulator()
        emulator.enforce(limits.rateLimits)
        if let tokens {
            guard let text = try? String(contentsOfFile: tokens, encoding: .utf8) else {
                printError("\(tokens): cannot read the tokens file")
                return .usage
            }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
                do {
                    emulator.addBot(try BotToken(trimmed))
                } catch {
                    printError("\(tokens):\(index + 1):1: token: \(error)")
                    return .usage
                }
            }
        }
        let bound: Int
        do {
            bound = try await emulator.start(port: port)
        } catch {
            printError("\(error)")
            return .botFailed
        }
        FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(bound)\n".utf8))
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        await emulator.stop()
        return .success
    }
}
