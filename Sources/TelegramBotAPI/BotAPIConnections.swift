import AsyncHTTPClient
import NIOCore
import Synchronization

/// HTTP connections to the Bot API, shared by the clients (``BotAPIClient``) of many bots.
///
/// A host runs thousands of bots against one server (`api.telegram.org`). With a pool
/// each, every bot kept its own idle connections and its own pool's bookkeeping (about
/// 15 KiB a bot), and a webhook bot's call once a minute found its connection closed and
/// opened a new one. Shared, an idle connection serves whichever bot calls next. Each
/// client still keeps to its own budget of calls in flight
/// (``BotAPIClient/Configuration/maxConnections``), so no bot crowds out another, and the
/// pool itself never queues: its limit is the process's descriptor limit.
///
/// The connections open at the first call; ``shutdown()`` closes them for good.
public final class BotAPIConnections: Sendable {
    private let configuration: HTTPClient.Configuration
    /// `nil` before the first call; ``State/shutDown`` for good after ``shutdown()``.
    private let state = Mutex(State.notOpened)

    private enum State {
        case notOpened
        case open(HTTPClient)
        case shutDown
    }

    /// - Parameters:
    ///   - connectTimeout: How long opening one connection may take.
    ///   - maxConnections: Connections open at once, over all clients; beyond it calls wait
    ///     for one. Keep it at or above the sum of the clients' budgets.
    public init(connectTimeout: Duration = .seconds(10), maxConnections: Int) {
        // No read timeout: every call has a deadline (``BotAPIClient/Configuration/requestTimeout``,
        // plus the poll's own timeout for a long poll) that bounds its reads as well, while
        // a read timeout arms a timer for every answer and re-arms it at every read.
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(connectTimeout)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections))
        )
        // A connection that cannot be made fails the call at once, so the caller's retry
        // policy (and its log line) takes over, instead of the pool retrying silently until
        // the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        // HTTP/1.1 only: over HTTP/2 the pool keeps about one connection per event loop and
        // queues calls past the server's streams per connection, where every bot's 30-second
        // long poll holds one; each call then needs a connection of its own.
        configuration.httpVersion = .http1Only
        configuration.tracing.tracer = nil
        self.configuration = configuration
    }

    /// The pool, opened at the first call; throws `HTTPClientError.alreadyShutdown` after
    /// ``shutdown()``.
    func client() throws -> HTTPClient {
        try state.withLock { state in
            switch state {
            case .open(let client):
                return client
            case .notOpened:
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                state = .open(client)
                return client
            case .shutDown:
                throw HTTPClientError.alreadyShutdown
            }
        }
    }

    /// Closes the connections for good; calls still pending fail, and so does every later one.
    public func shutdown() async throws {
        let open = state.withLock { state -> HTTPClient? in
            defer { state = .shutDown }
            if case .open(let client) = state { return client }
            return nil
        }
        try await open?.shutdown()
    }
}
