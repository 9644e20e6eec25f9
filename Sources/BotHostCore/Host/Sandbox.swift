import BotAPIEmulator
import Logging
import TelegramBotAPI

/// `api_url: sandbox`: the Bot API emulator in-process, with simulated users who write to
/// every sandbox bot, so a new user sees the host work without a token or a network.
///
/// The conversation is logged: what each user writes and what each bot answers.
final class Sandbox: Sendable {
    let emulator: BotAPIEmulator
    let baseURL: String
    private let chatter: Task<Void, Never>

    /// What simulated users say: plain text for echo-style bots, and questions for bots
    /// that answer `/ask`.
    static let phrases = [
        "hello there", "/ask how do I write a plugin?", "what can you do?", "/ask how are updates ordered?",
        "/start", "/ask what happens on SIGTERM?", "good bot",
    ]

    private init(emulator: BotAPIEmulator, chatter: Task<Void, Never>) {
        self.emulator = emulator
        self.baseURL = emulator.baseURL
        self.chatter = chatter
    }

    /// Starts the sandbox if any bot of `manifest` uses it; `nil` otherwise.
    static func startIfNeeded(for manifest: Manifest, logger: Logger) async throws -> Sandbox? {
        let bots = manifest.bots.filter { $0.apiURL == .sandbox }
        guard !bots.isEmpty else { return nil }
        let emulator = BotAPIEmulator(logger: Logger(label: "bothost.sandbox") { _ in SwiftLogNoOpLogHandler() })
        try await emulator.start()
        for bot in bots { emulator.addBot(bot.token, username: "\(bot.name)_bot") }
        logger.info(
            "sandbox: emulator listening on \(emulator.baseURL) with \(manifest.sandbox.users) simulated users",
            metadata: ["messages_per_minute": "\(manifest.sandbox.messagesPerMinute)"])
        let chatter = Task {
            await converse(emulator: emulator, bots: bots, settings: manifest.sandbox, logger: logger)
        }
        return Sandbox(emulator: emulator, chatter: chatter)
    }

    func stop() async {
        chatter.cancel()
        await chatter.value
        await emulator.stop()
    }

    /// Users take turns writing to the bots at `messagesPerMinute` per bot, and every
    /// reply is logged as it arrives.
    private static func converse(emulator: BotAPIEmulator, bots: [BotConfiguration], settings: SandboxSettings, logger: Logger)
        async
    {
        let users = (0..<max(1, settings.users)).map { index in
            User(id: Int64(2001 + index), firstName: ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank"][index % 6])
        }
        let interval = Duration.milliseconds(60_000 / max(1, settings.messagesPerMinute))
        var replies = Dictionary(uniqueKeysWithValues: bots.map { ($0.name, 0) })
        var turn = 0
        var nextMessage = ContinuousClock.now + .seconds(1)
        while !Task.isCancelled {
            if ContinuousClock.now >= nextMessage {
                for bot in bots {
                    let user = users[turn % users.count]
                    let text = phrases[turn % phrases.count]
                    emulator.sendText(text, to: bot.token, from: user)
                    logger.info("sandbox: \(user.firstName) → \(bot.name): \(text)")
                }
                turn += 1
                nextMessage = nextMessage + interval
            }
            for bot in bots {
                let sent = emulator.sentMessages(by: bot.token)
                for message in sent.dropFirst(replies[bot.name] ?? 0) {
                    logger.info("sandbox: \(bot.name) → chat \(message.chatID): \(message.text)")
                }
                replies[bot.name] = sent.count
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
