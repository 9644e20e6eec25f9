import Foundation
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
public import TelegramBotAPI

/// A Telegram Bot API server on 127.0.0.1, for tests, benchmarks and the sandbox.
///
/// It speaks the Bot API over real HTTP with Telegram's semantics (long polling, offsets,
/// 409 conflicts, 429 with `retry_after`, 401 for unknown tokens) so that clients are
/// tested the way they run. Tests drive it in-process through the methods below; the
/// standalone `bothost emulator` exposes the same controls over HTTP under `/control`.
public final class BotAPIEmulator: Sendable {
    let state = EmulatorState()
    private let webhooks: WebhookPusher
    private let logger: Logger
    private let running = Mutex<(server: (task: Task<Void, any Error>, group: ServiceGroup)?, port: Int?)>((nil, nil))

    /// How long ``stop()`` lets the server end gracefully before it cancels it: a request
    /// the emulator was told to answer late must not hold a test's end back.
    static let gracefulStop = Duration.seconds(1)

    /// - Parameter logger: the HTTP server's own logs; silent unless given.
    public init(logger: Logger = Logger(label: "bothost.emulator") { _ in SwiftLogNoOpLogHandler() }) {
        self.logger = logger
        let webhooks = WebhookPusher(state: state)
        self.webhooks = webhooks
        state.onWebhookWork { webhooks.wake($0) }
    }

    /// Starts serving on `127.0.0.1:port` (0 picks a free port) and returns the port.
    /// Throws when it cannot listen.
    @discardableResult
    public func start(port: Int = 0) async throws -> Int {
        state.acceptPolls()
        let server = server(port: port)
        var configuration = ServiceGroupConfiguration(services: [server], logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.gracefulStop
        let group = ServiceGroup(configuration: configuration)
        // Owned by the emulator: ``stop()`` ends it and waits for its end. Detached so
        // that it does not inherit the caller's graceful shutdown: the caller's service
        // group stopping must not take the emulator down before ``stop()``.
        let task = Task.detached { try await group.run() }
        running.withLock { $0.server = (task, group) }
        return try await server.port()
    }

    /// The emulator's HTTP server as a service for a service group to own (the host's
    /// sandbox); ``port`` and ``baseURL`` are known once it listens.
    package func server(port: Int = 0) -> HTTPServer {
        HTTPServer(
            name: "the Bot API emulator", router: EmulatorRouter(state: state, logger: logger).build(), host: "127.0.0.1",
            port: port, backlog: 4096,
            server: .http1(configuration: .init(additionalChannelHandlers: [InboundCloseWatcher()])), logger: logger,
            onListening: { [self] port in running.withLock { $0.port = port } },
            onGracefulShutdown: { [state] in state.endAllPolls() })
    }

    /// Stops serving; pending polls are dropped.
    ///
    /// Gracefully first: the server stops accepting, then ends. Cancelled while it still
    /// accepts, it could drop a connection accepted but not yet served, and NIO traps on
    /// that (apple/swift-nio#3481); the service group cancels it only after
    /// ``gracefulStop``, to end requests that are still being answered.
    public func stop() async {
        guard let (task, group) = running.withLock({ $0.server.take() }) else { return }
        state.endAllPolls()
        await group.triggerGracefulShutdown()
        await webhooks.shutdown()
        _ = await task.result
        running.withLock { $0.port = nil }
    }

    /// The port while running.
    public var port: Int? { running.withLock { $0.port } }

    /// `http://127.0.0.1:PORT`, the base URL clients use.
    public var baseURL: String { "http://127.0.0.1:\(port ?? 0)" }

    // MARK: - Control

    /// Makes `token` a known bot; unknown tokens get 401.
    @discardableResult
    public func addBot(_ token: BotToken, username: String? = nil) -> User {
        state.addBot(token: token, username: username)
    }

    /// Queues a text message from `user` in the private chat with them (or `chatID`), and
    /// returns its `update_id`.
    @discardableResult
    public func sendText(
        _ text: String, to token: BotToken, from user: User = User(id: 1001, firstName: "Alice"), chatID: Int64? = nil
    ) -> Int64 {
        state.addBot(token: token, username: nil)
        return state.injectText(text, botID: token.botID, from: user, chatID: chatID) ?? 0
    }

    /// Queues a callback query (a press on an inline button) from `user`, on `message`
    /// (the bot's message that carried the button) when given.
    @discardableResult
    public func sendCallback(
        data: String, to token: BotToken, from user: User = User(id: 1001, firstName: "Alice"), message: Message? = nil
    ) -> Int64 {
        var payload: [String: JSONValue] = [
            "id": .string(UUID().uuidString),
            "from": user.json,
            "chat_instance": .string("\(user.id)"),
            "data": .string(data),
        ]
        payload["message"] = message?.json
        return injectUpdate(kind: "callback_query", payload: .object(payload), to: token)
    }

    /// Queues any update: `{"update_id": N, kind: payload}`. Returns its `update_id`.
    @discardableResult
    public func injectUpdate(kind: String, payload: JSONValue, to token: BotToken) -> Int64 {
        state.addBot(token: token, username: nil)
        return state.inject(botID: token.botID, kind: kind, payload: payload) ?? 0
    }

    /// The next `count` calls of `method` by this bot answer with `fault`.
    public func injectFault(_ fault: EmulatorFault, method: String, count: Int = 1, for token: BotToken) {
        state.addFault(fault, botID: token.botID, method: method, count: count)
    }

    /// From now on every `period`-th call of `method` by this bot fails, with `faults`
    /// taken in turn: `period: 20` fails 5% of calls.
    public func injectPeriodicFaults(_ faults: [EmulatorFault], method: String, every period: Int, for token: BotToken) {
        state.addPeriodicFaults(faults, botID: token.botID, method: method, period: period)
    }

    /// Numbers the bot's next updates from `firstUpdateID` (a random one when `nil`), as
    /// Telegram does after a week without updates: a client's offset is then far past the
    /// queue, and ignored.
    public func restartUpdateSequence(for token: BotToken, at firstUpdateID: Int64? = nil) {
        state.addBot(token: token, username: nil)
        state.restartUpdateSequence(botID: token.botID, at: firstUpdateID)
    }

    /// Sets (or with `""` clears) the bot's webhook, as `setWebhook` would, with its
    /// `secret_token` and `max_connections` (40 when `nil`).
    public func setWebhook(_ url: String, secret: String? = nil, maxConnections: Int? = nil, for token: BotToken) {
        state.setWebhook(botID: token.botID, url: url, secret: secret, maxConnections: maxConnections)
    }

    public func webhookInfo(for token: BotToken) -> WebhookInfo {
        state.webhookInfo(botID: token.botID)
    }

    /// Every webhook post of the bot's updates, in the order they ended.
    public func webhookDeliveries(of token: BotToken) -> [WebhookDeliveryRecord] {
        state.webhookDeliveries(botID: token.botID)
    }

    /// Every message the bot sent, in order.
    public func sentMessages(by token: BotToken) -> [SentMessage] {
        state.sentMessages(botID: token.botID)
    }

    /// Every call the bot made but `getUpdates`, in order: its parameters, uploaded files
    /// (with their sizes) and the answer. A long run keeps only its latest 5,000 to 10,000.
    public func calls(by token: BotToken) -> [RecordedCall] {
        state.recordedCalls(botID: token.botID)
    }

    /// Makes a chat known to the bot, as if it had written: needed for a `@username`, and
    /// for any chat with ``requireKnownChats(_:)``.
    public func addChat(id: Int64, username: String? = nil, for token: BotToken) {
        state.addBot(token: token, username: nil)
        state.addChat(botID: token.botID, id: id, username: username)
    }

    /// With `true`, sending to a numeric chat id the bot has not seen in an update (or
    /// ``addChat(id:username:for:)``) answers `Bad Request: chat not found`, as Telegram
    /// does; by default any chat id but 0 is taken as known.
    public func requireKnownChats(_ strict: Bool = true) {
        state.setStrictChats(strict)
    }

    /// From now on answers 429 `Too Many Requests: retry after N` to messages past
    /// `limits`, as Telegram does past its own (``RateLimits/telegram``): per bot, per chat
    /// and per group, counted as the bot's rate limiter counts them, with 250 ms of grace
    /// for the network's jitter. ``RateLimits/off`` (the default) answers every message.
    /// The buckets refill on `clock`: a test that passes a manual one sees the same 429s
    /// however slowly its calls come.
    public func enforce(_ limits: RateLimits, clock: any Clock<Duration> = ContinuousClock()) {
        state.enforce(limits, clock: clock)
    }

    /// How many of the bot's calls were answered 429: past the enforced limits, by an
    /// injected fault, or for `setWebhook` too often.
    public func rateLimitedCount(of token: BotToken) -> Int {
        state.rateLimitedCount(botID: token.botID)
    }

    /// How many messages the bot sent, without copying them.
    public func sentCount(by token: BotToken) -> Int {
        state.sentCount(botID: token.botID)
    }

    /// Every `getUpdates` call of the bot, in order.
    public func getUpdatesCalls(of token: BotToken) -> [GetUpdatesCall] {
        state.getUpdatesCalls(botID: token.botID)
    }

    /// How often the bot called `method` (faulted calls included).
    public func callCount(_ method: String, of token: BotToken) -> Int {
        state.callCount(botID: token.botID, method: method)
    }

    /// Updates queued and not yet confirmed.
    public func pendingUpdateIDs(of token: BotToken) -> [Int64] {
        state.pendingUpdateIDs(botID: token.botID)
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    ///
    /// The condition is checked after 1 ms, then at intervals that double up to 20 ms: a
    /// test run has dozens of waits at once, and on a small machine checking each every
    /// millisecond would take the CPU from what they wait for.
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var pause = Duration.milliseconds(1)
        while !condition() {
            guard clock.now < deadline else { return false }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
        return true
    }
}
