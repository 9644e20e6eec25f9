import TelegramBotAPI

/// A bot module: what one `plugin:` name in a manifest runs.
///
/// The host creates one instance per bot, after it holds the bot's lock and has checked
/// its token, and calls ``handle(_:)`` for every update. Updates of one chat arrive one
/// at a time and in order; updates of different chats arrive concurrently, so an
/// instance must be safe to call from several tasks at once.
///
/// Plugin code runs on Swift Concurrency's executor, which in `bothost` is the event-loop
/// threads that do every bot's network I/O: await, never block (no synchronous sleeps,
/// file reads or long CPU loops), or other bots' I/O waits until the thread is free again.
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
