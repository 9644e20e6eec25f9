import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import TelegramBotAPI

/// Posts each bot's queued updates to its webhook, as Telegram does: `POST url` with the
/// update as JSON and `X-Telegram-Bot-Api-Secret-Token` when the webhook has a secret, at
/// most `max_connections` at once per bot, each waiting up to ``answerTimeout`` for an
/// answer. A 2xx delivers the update; anything else is tried again after the answer's
/// `Retry-After`, or after a backoff (``EmulatorState/webhookPosted(botID:id:status:retryAfter:error:)``).
///
/// Posts wait for one of ``maxConcurrentPosts`` permits (``PostPermits``) before they go
/// to the HTTP client, whose pool keeps as many connections to the webhooks' host.
///
/// One loop per bot with a webhook, woken when an update is queued, the webhook is set, a
/// post ends, or a retry is due; it ends when the webhook is deleted. The certificate of
/// an `https` webhook is not verified: tests serve a self-signed one.
final class WebhookPusher: Sendable {
    /// How long a post waits for the host's answer.
    static let answerTimeout = Duration.seconds(60)
    /// The most posts under way at once across every bot, and so the most connections open
    /// to one webhook host: the listener's process needs a file descriptor for each.
    static let maxConcurrentPosts = 1_000

    private let permits = PostPermits(limit: maxConcurrentPosts)

    private let state: EmulatorState
    /// Made when a webhook first needs it, shut down by ``shutdown()``.
    private let madeClient = Mutex<HTTPClient?>(nil)
    /// The wake-up of each bot's running loop.
    private let loops = Mutex<[String: AsyncStream<Void>.Continuation]>([:])

    init(state: EmulatorState) {
        self.state = state
    }

    private var client: HTTPClient {
        madeClient.withLock { made in
            if let made { return made }
            let client = Self.makeClient()
            made = client
            return client
        }
    }

    private static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        configuration.tlsConfiguration = tls
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConcurrentPosts)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Wakes the bot's loop, starting one if none runs.
    func wake(_ botID: String) {
        let started = loops.withLock { loops -> AsyncStream<Void>? in
            if let running = loops[botID] {
                running.yield()
                return nil
            }
            let (wakeups, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            loops[botID] = continuation
            continuation.yield()
            return wakeups
        }
        guard let started else { return }
        // Owned by the pusher: it ends when the bot's webhook is deleted, or at shutdown.
        Task { await self.run(botID, wakeups: started) }
    }

    /// Ends every loop and closes the connections.
    func shutdown() async {
        let running = loops.withLock { loops in
            defer { loops = [:] }
            return Array(loops.values)
        }
        for loop in running { loop.finish() }
        permits.open()
        try? await madeClient.withLock { $0.take() }?.shutdown()
    }

    private func run(_ botID: String, wakeups: AsyncStream<Void>) async {
        await withDiscardingTaskGroup { group in
            var retryTimer: Task<Void, Never>?
            for await _ in wakeups {
                retryTimer?.cancel()
                guard let work = state.takeWebhookWork(botID: botID, now: .now) else { break }
                for post in work.posts {
                    group.addTask {
                        await self.permits.acquire()
                        await self.post(post.body, id: post.id, botID: botID, to: work.url, secret: work.secret)
                        self.permits.release()
                        self.wake(botID)
                    }
                }
                if let due = work.nextRetry {
                    retryTimer = Task {
                        guard (try? await Task.sleep(until: due, clock: .continuous)) != nil else { return }
                        self.wake(botID)
                    }
                }
            }
            retryTimer?.cancel()
            loops.withLock { $0[botID] = nil }
        }
    }

    private func post(_ update: JSONValue, id: Int64, botID: String, to url: String, secret: String?) async {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let secret { request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret) }
        request.body = .bytes(ByteBuffer(bytes: update.jsonText))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(Self.answerTimeout.components.seconds)))
            _ = try? await response.body.collect(upTo: 1 << 16)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            state.webhookPosted(botID: botID, id: id, status: Int(response.status.code), retryAfter: retryAfter, error: nil)
        } catch {
            state.webhookPosted(botID: botID, id: id, status: nil, retryAfter: nil, error: "Connection refused")
        }
    }
}
