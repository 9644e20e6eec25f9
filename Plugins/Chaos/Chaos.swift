public import BotHostKit
import Foundation

/// `plugin: chaos`: answers text like `echo`, and misbehaves on command, so that drills
/// and acceptance tests can crash, block and flood on purpose (DESIGN, "The chaos plugin").
///
/// | text | does |
/// | --- | --- |
/// | `/crash` | traps its process (`fatalError`) |
/// | `/block N` | blocks its thread N seconds (a synchronous sleep) |
/// | `/spin N` | burns CPU N seconds |
/// | `/hang N` | awaits N seconds |
/// | `/fail` | throws |
/// | `/flood N` | sends N messages to the chat it came from |
/// | `/count` | adds one to the chat's count in the bot's state (which outlives restarts) and answers `count N` |
/// | `/broadcast N` | schedules a job that sends one message to each of the chats 1 to N |
///
/// With `settings: { farewell_chat: ID }` its shutdown hook sends `chaos: goodbye` to that
/// chat, so that a test sees at the Bot API that a stop or a restart ran the bot's hooks.
///
/// Never give it to a bot that real users talk to.
public struct Chaos: BotPlugin {
    public static let name = "chaos"
    private let context: BotContext

    public struct Settings: DefaultedSettings {
        /// The chat that the shutdown hook says goodbye to; none when `nil`.
        public var farewellChat: Int64?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case farewellChat = "farewell_chat"
        }
    }

    public init(context: BotContext) async throws {
        self.context = context
        if let chat = try context.settings.decode(Settings.self).farewellChat {
            try context.shutdown.register("chaos-farewell") {
                try await context.api.sendMessage(chatID: .id(chat), text: "chaos: goodbye")
            }
        }
    }

    /// The error `/fail` throws.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String { "chaos: /fail" }
    }

    public func handle(_ update: Update) async throws {
        // Drills count handoffs from this line: one per update, unless a try failed.
        context.logger.info("chaos: handling an update", metadata: ["update_id": .stringConvertible(update.updateID)])
        guard let message = update.message, let text = message.text else { return }
        let chat = ChatID.id(message.chat.id)
        let words = text.split(separator: " ")
        let seconds = words.count > 1 ? Double(words[1]) ?? 0 : 0
        switch words.first {
        case "/crash":
            fatalError("chaos: /crash")
        case "/block":
            blockThread(seconds: seconds)
        case "/spin":
            let end = ContinuousClock.now + .seconds(seconds)
            var spins: UInt64 = 0
            while ContinuousClock.now < end { spins &+= 1 }
        case "/hang":
            try await Task.sleep(for: .seconds(seconds))
        case "/fail":
            throw Failure()
        case "/flood":
            for index in 1...max(1, Int(seconds)) {
                try await context.api.sendMessage(chatID: chat, text: "flood \(index)")
            }
        case "/count":
            let key = StateKey.chat(message.chat.id, "count")
            let count = try await context.state.value(Int.self, for: key) ?? 0
            try await context.state.set(count + 1, for: key)
            try await context.api.sendMessage(chatID: chat, text: "count \(count + 1)")
        case "/broadcast":
            // A job, not the handler, sends it: its calls go behind the bot's replies.
            let count = max(1, Int(seconds))
            context.scheduler.after(.zero, name: "broadcast") { [context] in
                for target in 1...Int64(count) {
                    try await context.api.sendMessage(chatID: .id(target), text: "broadcast \(target)")
                }
                context.logger.info("chaos: broadcast sent", metadata: ["messages": .stringConvertible(count)])
            }
        default:
            try await context.api.sendMessage(chatID: chat, text: text)
        }
    }
}

/// Blocks the calling thread, as synchronous file or network code would.
private func blockThread(seconds: Double) {
    Thread.sleep(forTimeInterval: seconds)
}
