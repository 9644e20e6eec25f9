public import BotHostKit

/// `plugin: echo`: answers every message that has text with the same text, in the same chat.
public struct Echo: BotPlugin {
    public static let name = "echo"
    private let context: BotContext

    public init(context: BotContext) async throws {
        self.context = context
    }

    public func handle(_ update: Update) async throws {
        guard let message = update.message, let text = message.text else { return }
        try await context.api.sendMessage(chatID: .id(message.chat.id), text: text)
    }
}
