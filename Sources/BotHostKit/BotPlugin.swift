import TelegramBotAPI

/// A bot module: what one `plugin:` name in a manifest runs.
///
/// The host creates one instance per bot, after it holds the bot's lock and has checked
/// its token, and calls ``handle(_:)`` for every update. Updates of one chat arrive one
/// at a time and in order; updates of different chats arrive concurrently, so an
/// instance must be safe to call from several tasks at once.
///
/// Plugin code (init, handlers, shutdown hooks, scheduled jobs) runs on threads of its
/// own, apart from the event loops that do every bot's network I/O: a handler that
/// blocks holds up only its own chat. Awaiting is still cheaper than blocking a thread.
/// See <doc:CallingTheBotAPI>.
///
/// ```swift
/// struct Echo: BotPlugin {
///     static let name = "echo"
///     let context: BotContext
///     init(context: BotContext) async throws { self.context = context }
///     func handle(_ update: Update) async throws {
///         guard let message = update.message, let text = message.text else { return }
///         try await context.api.sendMessage(chatID: .id(message.chat.id), text: text)
///     }
/// }
/// ```
public protocol BotPlugin: Sendable {
    /// What the manifest's `settings:` block holds for this plugin: `bothost validate`
    /// and `bothost run` decode every bot's block as this type (with
    /// ``PluginSettings/decode(_:)``) and report each problem at its manifest line before
    /// any bot starts. Make it ``DefaultedSettings`` for keys that may be left out, and
    /// `Codable` (not just `Decodable`) for misspelt keys to be reported. Without one,
    /// any settings are accepted as JSON.
    associatedtype Settings: Decodable & Sendable = JSONValue

    /// The name manifests use in `plugin:`, such as `echo`.
    static var name: String { get }

    /// Sets the plugin up for one bot: decode ``BotContext/settings``, open resources,
    /// register their cleanup with ``BotContext/shutdown``, schedule jobs. Throwing
    /// fails this bot (not the host) with the error's description.
    init(context: BotContext) async throws

    /// Handles one update. A thrown error is logged and counted; the update still counts
    /// as handled and is not redelivered. A handler running past the bot's
    /// `handler_timeout` is cancelled.
    func handle(_ update: Update) async throws
}
