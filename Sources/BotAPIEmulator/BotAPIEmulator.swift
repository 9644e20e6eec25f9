import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TelegramBotAPI

/// A Telegram Bot API server on 127.0.0.1, for tests, benchmarks and the sandbox.
///
/// It speaks the Bot API over real HTTP with Telegram's semantics (long polling, offsets,
/// 409 conflicts, 429 with `retry_after`, 401 for unknown tokens) so that clients are
/// tested the way they run. Tests drive it in-process through the methods below; the
/// standalone `bothost emulator` exposes the same controls over HTTP under `/control`.
public final class BotAPIEmulator: Sendable {
    let state = EmulatorState()
    private let logger: Logger
    private let server = Mutex<(task: Task<Void, any Error>, port: Int)?>(nil)

    /// - Parameter logger: the HTTP server's own logs; silent unless given.
    public init(logger: Logger = Logger(label: "bothost.emulator") { _ in SwiftLogNoOpLogHandler() }) {
        self.logger = logger
    }

    /// Starts serving on `127.0.0.1:port` (0 picks a free port) and returns the port.
    @discardableResult
    public func start(port: Int = 0) async throws -> Int {
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: EmulatorRouter(state: state, logger: logger).build(),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil, backlog: 4096),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? 0)
                boundContinuation.finish()
            },
            logger: logger
        )
        // Detached: the server's life is ``stop()``'s alone, not that of whatever task
        // started it (a host's graceful shutdown must not take the sandbox down first).
        let task = Task.detached {
            defer { boundContinuation.finish() }
            try await app.run()
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw CancellationError()
        }
        server.withLock { $0 = (task, port) }
        return port
    }

    /// Stops serving; pending polls are dropped.
    public func stop() async {
        guard let running = server.withLock({ $0.take() }) else { return }
        running.task.cancel()
        state.endAllPolls()
        _ = await running.task.result
    }

    /// The port while running.
    public var port: Int? { server.withLock { $0?.port } }

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

    /// Queues a callback query (a press on an inline button) from `user`.
    @discardableResult
    public func sendCallback(data: String, to token: BotToken, from user: User = User(id: 1001, firstName: "Alice")) -> Int64 {
        let payload: JSONValue = .object([
            "id": .string(UUID().uuidString),
            "from": jsonValue(of: user),
            "chat_instance": .string("\(user.id)"),
            "data": .string(data),
        ])
        return injectUpdate(kind: "callback_query", payload: payload, to: token)
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

    /// Sets (or with `""` clears) the bot's webhook, as `setWebhook` would.
    public func setWebhook(_ url: String, for token: BotToken) {
        state.setWebhook(botID: token.botID, url: url)
    }

    public func webhookInfo(for token: BotToken) -> WebhookInfo {
        state.webhookInfo(botID: token.botID)
    }

    /// Every message the bot sent, in order.
    public func sentMessages(by token: BotToken) -> [SentMessage] {
        state.sentMessages(botID: token.botID)
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

    /// Waits until `condition` holds (checked every millisecond) or `timeout` passes;
    /// returns whether it held.
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !condition() {
            guard clock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }
}
