import BotAPIEmulator
import Logging
import ServiceLifecycle
import TelegramBotAPI

/// `api_url: sandbox`: the Bot API emulator in-process, with simulated users who write to
/// every sandbox bot, so a new user sees the host work without a token or a network.
///
/// A service of the host's group, started first and stopped last: the bots poll it until
/// they have stopped. The conversation is logged: what each user writes and what each bot
/// answers.
final class Sandbox: Service {
    private let emulator = BotAPIEmulator(logger: Logger(label: "bothost.sandbox") { _ in SwiftLogNoOpLogHandler() })
    private let server: HTTPServer
    private let bots: [BotConfiguration]
    private let settings: SandboxSettings
    private let logger: Logger

    /// What simulated users say: plain text for echo-style bots, and questions for bots
    /// that answer `/ask`.
    static let phrases = [
        "hello there", "/ask how do I write a plugin?", "what can you do?", "/ask how are updates ordered?",
        "/start", "/ask what happens on SIGTERM?", "good bot",
    ]

    /// A sandbox for the bots of `manifest` that use it; `nil` when none does.
    init?(for manifest: Manifest, logger: Logger) {
        bots = manifest.bots.filter { $0.apiURL == .sandbox }
        guard !bots.isEmpty else { return nil }
        settings = manifest.sandbox
        self.logger = logger
        server = emulator.server()
        for bot in bots { emulator.addBot(bot.token, username: "\(bot.name)_bot") }
    }

    /// The emulator's base URL once it listens; throws when it cannot.
    func baseURL() async throws -> String {
        "http://127.0.0.1:\(try await server.port())"
    }

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.server.run() }
            group.addTask {
                guard let url = try? await self.baseURL() else { return }
                self.logger.info(
                    "sandbox: emulator listening on \(url) with \(self.settings.users) simulated users",
                    metadata: ["messages_per_minute": "\(self.settings.messagesPerMinute)"])
                await cancelWhenGracefulShutdown { await self.converse() }
            }
        }
    }

    /// Users take turns writing to the bots at `messagesPerMinute` per bot, and every
    /// reply is logged as it arrives.
    private func converse() async {
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
                    let text = Self.phrases[turn % Self.phrases.count]
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
