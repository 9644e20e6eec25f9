public import BotAPIEmulator
public import BotHostKit
import Foundation

/// Runs one plugin against the Bot API emulator inside a unit test.
///
/// The harness gives the plugin what the host would (a real API client over loopback
/// HTTP, shutdown hooks, a scheduler on a ``ManualClock``, a logger whose lines the test
/// can read, an empty state store whose times to live run on the same clock) and delivers
/// updates through the emulator, so the plugin sees exactly what Telegram would send and
/// its replies land where a test can read them.
///
/// ```swift
/// let harness = try await PluginHarness.start(Echo.self)
/// let replies = try await harness.send("hello")
/// #expect(replies.map(\.text) == ["hello"])
/// await harness.stop()
/// ```
public final class PluginHarness<Plugin: BotPlugin>: Sendable {
    /// A user who writes to the bot unless a test names another.
    public static var alice: User { User(id: 1001, firstName: "Alice") }

    public let plugin: Plugin
    public let context: BotContext
    public let emulator: BotAPIEmulator
    /// The clock the plugin's scheduler runs on: move it with ``advance(by:)``.
    public let clock: ManualClock
    /// Everything the plugin logged.
    public let logs: LogCapture
    private let token: BotToken

    private init(
        plugin: Plugin, context: BotContext, emulator: BotAPIEmulator, clock: ManualClock, logs: LogCapture, token: BotToken
    ) {
        self.plugin = plugin
        self.context = context
        self.emulator = emulator
        self.clock = clock
        self.logs = logs
        self.token = token
    }

    /// Starts the emulator and the plugin, with `settings` as the manifest's `settings:`.
    public static func start(
        _ type: Plugin.Type = Plugin.self, settings: JSONValue = .object([:]), botName: String = "test",
        hookTimeout: Duration = .seconds(5)
    ) async throws -> PluginHarness {
        let emulator = BotAPIEmulator()
        try await emulator.start()
        let token = try BotToken("4242:harness-\(UUID().uuidString)")
        let bot = emulator.addBot(token, username: "\(botName)_bot")
        let clock = ManualClock()
        let started = Date()
        let logs = LogCapture()
        var logger = logs.logger(label: "bothost.harness")
        logger[metadataKey: "bot"] = "\(botName)"
        let api = BotAPIClient(token: token, configuration: .init(baseURL: emulator.baseURL, clock: clock), logger: logger)
        let context = BotContext(
            botName: botName, bot: bot, api: api, logger: logger,
            settings: PluginSettings(value: settings, path: "bots[0].settings"),
            shutdown: ShutdownHooks(defaultTimeout: hookTimeout, logger: logger),
            scheduler: Scheduler(clock: clock, logger: logger), events: BotEvents(),
            state: StateStore(storage: InMemoryStateStorage()) { started + clock.now.offset.seconds })
        do {
            let plugin = try await Plugin(context: context)
            return PluginHarness(plugin: plugin, context: context, emulator: emulator, clock: clock, logs: logs, token: token)
        } catch {
            try? await api.shutdown()
            await emulator.stop()
            throw error
        }
    }

    /// A user writes `text`; returns what the bot sent while handling it.
    @discardableResult
    public func send(_ text: String, from user: User = alice, chatID: Int64? = nil) async throws -> [SentMessage] {
        try await deliver { emulator.sendText(text, to: token, from: user, chatID: chatID) }
    }

    /// A user presses an inline button carrying `data` (on `message`, the bot's message
    /// that showed it, when given); returns what the bot sent with `sendMessage`.
    @discardableResult
    public func press(_ data: String, from user: User = alice, on message: Message? = nil) async throws -> [SentMessage] {
        try await deliver { emulator.sendCallback(data: data, to: token, from: user, message: message) }
    }

    /// Delivers any update as Telegram sends it: `kind` is its field (`edited_message`,
    /// `my_chat_member`, `inline_query`, ...) and `payload` that field's object; the
    /// emulator numbers it. Returns what the bot sent with `sendMessage` while handling it.
    ///
    /// ```swift
    /// try await harness.deliver("edited_message", [
    ///     "message_id": 7, "date": 1, "chat": ["id": 1001, "type": "private"], "text": "fixed",
    /// ])
    /// ```
    @discardableResult
    public func deliver(_ kind: String, _ payload: JSONValue) async throws -> [SentMessage] {
        try await deliver { emulator.injectUpdate(kind: kind, payload: payload, to: token) }
    }

    /// Every message the bot has sent so far with `sendMessage`.
    public var sentMessages: [SentMessage] { emulator.sentMessages(by: token) }

    /// Every call the plugin made but `getUpdates`, in order, typed: ``RecordedCall/method``,
    /// each parameter through ``RecordedCall/parameter(_:as:)`` (`reply_markup` as a
    /// ``ReplyMarkup``), uploaded files with their sizes, and the message it sent as a
    /// ``Message`` (``RecordedCall/message``).
    ///
    /// ```swift
    /// let keyboard = harness.calls.last?.parameter("reply_markup", as: ReplyMarkup.self)
    /// ```
    public var calls: [RecordedCall] { emulator.calls(by: token) }

    /// The messages the plugin sent (or edited), whatever the method, as Telegram would
    /// answer them.
    public var sent: [Message] { calls.compactMap(\.message) }

    /// Moves the scheduler's clock forward, running every job that comes due, and ages the
    /// values in ``BotContext/state`` with it.
    public func advance(by duration: Duration) {
        clock.advance(by: duration)
    }

    /// Waits until the bot has sent `count` messages in all (at most `timeout`, in real
    /// time) and returns them.
    public func waitForSentMessages(count: Int, timeout: Duration = .seconds(5)) async -> [SentMessage] {
        _ = await emulator.waitUntil(timeout: timeout) { sentMessages.count >= count }
        return sentMessages
    }

    /// Runs the bot's shutdown hooks, as the host does on SIGTERM, then stops the
    /// scheduler, the client and the emulator. Returns how each hook ended.
    @discardableResult
    public func stop() async -> [ShutdownHooks.Outcome] {
        await context.scheduler.cancelAll()
        let outcomes = await context.shutdown.run()
        try? await context.api.shutdown()
        await emulator.stop()
        return outcomes
    }

    /// Puts an update in the emulator's queue, fetches it over HTTP like the host, hands
    /// it to the plugin, and confirms it.
    private func deliver(_ inject: () -> Int64) async throws -> [SentMessage] {
        let before = sentMessages.count
        let id = inject()
        let updates = try await context.api.getUpdates(offset: id, limit: 1)
        for update in updates { try await plugin.handle(update) }
        _ = try await context.api.getUpdates(offset: id + 1, limit: 1)
        return Array(sentMessages.dropFirst(before))
    }
}
