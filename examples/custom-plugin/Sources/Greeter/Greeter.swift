import BotHostKit

/// Greets whoever writes `/start`, in the language of the manifest's `settings`.
///
/// ```yaml
/// plugin: greeter
/// settings: { greeting: "Hello" }
/// ```
public struct Greeter: BotPlugin {
    public static let name = "greeter"

    /// `greeting` may be left out of the manifest; a misspelt key is reported by `bothost validate`.
    public struct Settings: DefaultedSettings {
        public var greeting = "Hello"
        public init() {}
    }

    private let context: BotContext
    private let settings: Settings

    public init(context: BotContext) async throws {
        self.context = context
        self.settings = try context.settings.decode(Settings.self)
        try context.shutdown.register("greeter") { context.logger.info("greeter stopped") }
    }

    public func handle(_ update: Update) async throws {
        guard let message = update.message, message.text == "/start" else { return }
        let name = message.from?.firstName ?? "there"
        try await context.api.sendMessage(chatID: .id(message.chat.id), text: "\(settings.greeting), \(name)!")
    }
}
