import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Synchronization

/// A client of one bot's Bot API.
///
/// Its calls go over connections of its own, or over ``BotAPIConnections`` shared with
/// other bots' clients. Either way it keeps to its own budget of calls in flight
/// (``Configuration/maxConnections``): AsyncHTTPClient queues calls per server once a
/// pool's connections are busy, so bots without budgets of their own would wait behind
/// each other's 30-second long polls.
///
/// Calls throw ``BotAPIError`` for every failure of the call itself, and
/// `CancellationError` when the calling task is cancelled: cancellation aborts the
/// request at once, which is how a host stops a pending long poll. (The host's pause ends
/// one the same way without cancelling the task: a `CallInterruption`, package API.)
///
/// Outgoing calls (everything but ``getUpdates(offset:limit:timeout:allowedUpdates:)``)
/// that fail on the way (429 after `retry_after`; transport errors, 5xx and garbled
/// answers after a short pause) are sent again, up to ``Configuration/sendRetries`` times,
/// so that a reply is not lost to one bad moment; one that was never sent (its
/// connection could not be made) is sent again until ``Configuration/requestTimeout`` has
/// passed since its first try. Failures that remain are thrown to the caller, never
/// swallowed.
///
/// With ``Configuration/rateLimits``, outgoing calls first wait until the bot's limits
/// let them go: replies to updates before scheduled jobs' calls, and a chat over its
/// budget holds back only its own calls. A 429 then pauses what it concerns: the chat of
/// the call it answered, or, for a call without a chat, every call of the bot.
///
/// Call ``shutdown()`` when done.
public final class BotAPIClient: Sendable {
    public struct Configuration: Sendable {
        /// The Bot API server, such as `https://api.telegram.org`.
        public var baseURL: String
        /// This client's calls in flight at once: one long poll plus concurrent outgoing calls.
        public var maxConnections: Int
        /// How long any call but a long poll may take; a long poll gets its `timeout` on top.
        /// An outgoing call that was never sent is sent again within this time too.
        public var requestTimeout: Duration
        /// How often an outgoing call that failed on the way (429, transport, 5xx) is sent
        /// again; one that was never sent (``BotAPIError/unreachable(_:)``) is not counted.
        public var sendRetries: Int
        /// The clock retries and rate limits wait on; tests pass a manual one.
        public var clock: any Clock<Duration>
        /// The bot's sending limits, kept on this side so that Telegram never has to answer
        /// 429 (see ``RateLimits``); ``RateLimits/off`` (the default) sends every call at once.
        public var rateLimits: RateLimits
        /// The longest a call may wait for ``rateLimits`` before it fails with
        /// ``RateLimitWaitTooLong``.
        public var maxRateLimitWait: Duration
        /// Told of waits and 429s, for metrics.
        package var rateLimitObserver: (any RateLimitObserver)?

        public init(
            baseURL: String = "https://api.telegram.org", maxConnections: Int = 8, requestTimeout: Duration = .seconds(30),
            sendRetries: Int = 3, clock: any Clock<Duration> = ContinuousClock(), rateLimits: RateLimits = .off,
            maxRateLimitWait: Duration = .seconds(60)
        ) {
            self.baseURL = baseURL
            self.maxConnections = maxConnections
            self.requestTimeout = requestTimeout
            self.sendRetries = sendRetries
            self.clock = clock
            self.rateLimits = rateLimits
            self.maxRateLimitWait = maxRateLimitWait
        }
    }

    public let token: BotToken
    public let configuration: Configuration
    private let connections: BotAPIConnections
    /// Whether ``connections`` are this client's own, closed by ``shutdown()``.
    private let ownsConnections: Bool
    /// Set by ``shutdown()``: every call fails from then on, as with connections of its own.
    private let isShutDown = Atomic(false)
    private let inFlight: ConcurrentCallLimit
    private let logger: Logger
    /// `nil` with ``RateLimits/off``.
    private let limiter: RateLimiter?

    /// The largest response body accepted: 100 updates with big messages stay far below it.
    private static let maxResponseBytes = 32 * 1024 * 1024

    /// - Parameters:
    ///   - token: The bot's token; it goes into each call's URL and nowhere else.
    ///   - configuration: The server, the budget of calls in flight, timeouts, retries, limits.
    ///   - connections: Connections shared with other clients, which outlive this one; `nil`
    ///     opens connections of the client's own (up to ``Configuration/maxConnections``),
    ///     closed by ``shutdown()``.
    ///   - logger: Where retries and dropped updates are logged.
    public init(
        token: BotToken, configuration: Configuration = .init(), connections: BotAPIConnections? = nil,
        logger: Logger = Logger(label: "bothost.api")
    ) {
        self.token = token
        self.configuration = configuration
        self.connections = connections ?? BotAPIConnections(maxConnections: configuration.maxConnections)
        ownsConnections = connections == nil
        inFlight = ConcurrentCallLimit(configuration.maxConnections)
        self.logger = logger
        limiter =
            configuration.rateLimits.isOff
            ? nil
            : RateLimiter(
                limits: configuration.rateLimits, maxWait: configuration.maxRateLimitWait, clock: configuration.clock,
                observer: configuration.rateLimitObserver)
    }

    /// Ends the client: every later call fails with ``BotAPIError/transport(_:)``, so that
    /// nothing a plugin left running calls for a bot that has stopped. Closes the client's
    /// own connections (pending calls fail); shared ones stay open for the other clients.
    public func shutdown() async throws {
        isShutDown.store(true, ordering: .relaxed)
        if ownsConnections { try await connections.shutdown() }
    }

    // MARK: - Methods written by hand

    /// The bot itself: the first call a host makes with a token. Not retried here: the
    /// caller's retry policy decides, so that each failure is seen (and logged) at once.
    public func getMe() async throws -> User {
        let result = try await perform("getMe", body: .json(ByteBuffer(string: "{}")), timeout: configuration.requestTimeout)
        return try Self.typed(result, method: "getMe")
    }

    /// One long poll. Not retried here: the polling pipeline owns the retry policy.
    ///
    /// Each update is read on its own: one that does not fit the model comes back with its
    /// ``Update/decodingProblem`` set rather than failing the batch.
    public func getUpdates(
        offset: Int64?, limit: Int? = nil, timeout: Duration = .zero, allowedUpdates: [String]? = nil
    )
        async throws -> [Update]
    {
        try await getUpdates(
            offset: offset, limit: limit, timeout: timeout, allowedUpdates: allowedUpdates, interruptedBy: nil)
    }

    /// One long poll that `interruption` can end early from outside the calling task; it
    /// then throws `CancellationError`. The polling pipeline's, for the operator's pause.
    package func getUpdates(
        offset: Int64?, limit: Int?, timeout: Duration, allowedUpdates: [String]?,
        interruptedBy interruption: CallInterruption?
    )
        async throws -> [Update]
    {
        let body = Self.getUpdatesBody(offset: offset, limit: limit, timeout: timeout, allowedUpdates: allowedUpdates)
        let result = try await perform(
            "getUpdates", body: .json(body), timeout: configuration.requestTimeout + timeout, interruption: interruption)
        return try updates(in: result)
    }

    /// The body of ``getUpdates(offset:limit:timeout:allowedUpdates:interruptedBy:)``. Never inlined into
    /// it: the dictionary would stay in its async frame, which every bot's long poll keeps
    /// while it waits.
    @inline(never)
    private static func getUpdatesBody(
        offset: Int64?, limit: Int?, timeout: Duration, allowedUpdates: [String]?
    ) -> ByteBuffer {
        var parameters: [String: JSONValue] = ["timeout": .number(Double(timeout.components.seconds))]
        parameters["offset"] = offset.map { .number(Double($0)) }
        parameters["limit"] = limit.map { .number(Double($0)) }
        parameters["allowed_updates"] = allowedUpdates.map { .array($0.map(JSONValue.string)) }
        return body(parameters)
    }

    /// The updates of a `getUpdates` result; those without a readable `update_id` are left
    /// out and logged. Throws ``BotAPIError/malformedResponse(_:)`` when the result is not
    /// an array. Never inlined, as ``getUpdatesBody(offset:limit:timeout:allowedUpdates:)``.
    @inline(never)
    private func updates(in result: JSONValue) throws -> [Update] {
        do {
            let batch = try Update.batch(from: result)
            for problem in batch.unreadable {
                logger.error("getUpdates: left out an update without a readable update_id: \(problem)")
            }
            return batch.updates
        } catch let error as DecodingError {
            throw BotAPIError.malformedResponse("getUpdates: \(error.fieldProblem)")
        }
    }

    /// `sendMessage` replying to a message of the same chat, as earlier versions of the
    /// API spelled it (`reply_to_message_id`); it sends `reply_parameters`.
    @discardableResult
    public func sendMessage(chatID: ChatID, text: String, replyToMessageID: Int64) async throws -> Message {
        try await sendMessage(chatID: chatID, text: text, replyParameters: ReplyParameters(messageID: replyToMessageID))
    }

    /// Sends a call put together by hand or by a generated method, and reads its result.
    /// Local files make it a `multipart/form-data` upload, streamed from disk. A 429,
    /// transport failure, 5xx or garbled answer is retried up to
    /// ``Configuration/sendRetries`` times, a call never sent within
    /// ``Configuration/requestTimeout``.
    public func send<Result: JSONValueDecodable>(
        _ request: BotAPIRequest, as type: Result.Type = Result.self
    ) async throws -> Result {
        let body: RequestBody
        if request.files.isEmpty {
            body = .json(Self.body(request.parameters))
        } else {
            body = .multipart(try MultipartForm(parameters: request.parameters, files: request.files.files))
        }
        let messages =
            limiter == nil ? .none : OutgoingMessages(method: request.method, parameters: request.parameters)
        return try Self.typed(try await call(request.method, body: body, messages: messages), method: request.method)
    }

    /// Any Bot API method: `parameters` are sent as a JSON object, `result` decoded as `Result`.
    /// A 429, transport failure, 5xx or garbled answer is retried up to
    /// ``Configuration/sendRetries`` times, a call never sent within
    /// ``Configuration/requestTimeout``.
    public func call<Result: Decodable & Sendable>(
        _ method: String, parameters: some Encodable & Sendable, as type: Result.Type = Result.self
    ) async throws -> Result {
        let encoded = try JSONEncoder().encode(parameters)
        var messages = OutgoingMessages.none
        if limiter != nil, case .object(let fields)? = try? JSONValue(parsing: encoded) {
            messages = OutgoingMessages(method: method, parameters: fields)
        }
        let result = try await call(method, body: .json(ByteBuffer(data: encoded)), messages: messages)
        if let type = Result.self as? any JSONValueDecodable.Type {
            return try Self.typed(result, as: type, method: method) as! Result
        }
        do {
            return try JSONDecoder().decode(Result.self, from: JSONEncoder().encode(result))
        } catch let error as DecodingError {
            throw BotAPIError.malformedResponse("\(method): the result does not fit: \(error.fieldProblem)")
        }
    }

    /// A call's result, retried as ``send(_:as:)`` says; a failure is noted in
    /// ``FailedCalls/current``. `messages` is what the call sends, for the rate limits.
    private func call(_ method: String, body: RequestBody, messages: OutgoingMessages) async throws -> JSONValue {
        do {
            return try await retrying(method, body: body, messages: messages)
        } catch let error as BotAPIError {
            FailedCalls.current?.record(error, of: method)
            throw error
        }
    }

    /// Sends a call until it succeeds or is not worth sending again. A call that never
    /// reached the server (``BotAPIError/unreachable(_:)``) is sent again, apart from
    /// ``Configuration/sendRetries``, as long as its tries and pauses (0.1, 0.4, 1.6, then
    /// 5 s) stay within ``Configuration/requestTimeout`` of its first try: nothing was
    /// delivered, so nothing can come twice, and a reply outlasts a network blip, or a
    /// burst in which one failed connect fails every call waiting for a connection,
    /// instead of being lost after two seconds. Each try has the full deadline (a deadline
    /// cut short could end a call already sent, which would then be sent again), so the
    /// last resend may end up to one deadline past that time. The tries are timed on
    /// `ContinuousClock`, the pauses on ``Configuration/clock``.
    private func retrying(_ method: String, body: RequestBody, messages: OutgoingMessages) async throws -> JSONValue {
        var retries = 0
        var unreachable = (retries: 0, spent: Duration.zero)
        var timeout = configuration.requestTimeout
        if case .multipart(let form) = body {
            // An upload may take longer than a call: allow it 100 KB/s.
            timeout += .seconds(form.contentLength / 100_000)
        }
        while true {
            try await limiter?.admit(messages, method: method)
            let tried = ContinuousClock.now
            do {
                return try await perform(method, body: body, timeout: timeout)
            } catch let error as BotAPIError {
                let wait: Duration
                let attempt: String
                if case .unreachable = error {
                    wait = min(Self.transientRetryDelay(retries: unreachable.retries), .seconds(5))
                    unreachable.spent += ContinuousClock.now - tried + wait
                    guard unreachable.spent < configuration.requestTimeout else { throw error }
                    unreachable.retries += 1
                    attempt = "\(unreachable.retries), never sent"
                } else {
                    guard let delay = retryDelay(after: error, retries: retries, messages: messages),
                        retries < configuration.sendRetries
                    else { throw error }
                    wait = delay
                    retries += 1
                    attempt = "\(retries)/\(configuration.sendRetries)"
                }
                logger.warning(
                    "\(method) failed: \(error); retrying in \(formatDuration(wait))",
                    metadata: ["method": "\(method)", "attempt": "\(attempt)"])
                // With a limiter, a 429's wait is the pause it set, waited out in `admit`.
                if limiter == nil || error.isTransient { try await configuration.clock.sleep(for: wait) }
            }
        }
    }

    /// How long to wait before sending a call again after `error`, or `nil` if it is not
    /// worth sending again. A 429 is counted, and with a limiter pauses what it concerns
    /// (the call's chat, else the whole bot); one whose `retry_after` is longer than the
    /// limiter's max wait is not retried.
    private func retryDelay(after error: BotAPIError, retries: Int, messages: OutgoingMessages) -> Duration? {
        switch error {
        case .rateLimited(let retryAfter, _):
            configuration.rateLimitObserver?.callRateLimited()
            guard let limiter else { return retryAfter }
            limiter.pause(messages.chat, for: retryAfter)
            return retryAfter <= configuration.maxRateLimitWait ? retryAfter : nil
        case _ where error.isTransient:
            return Self.transientRetryDelay(retries: retries)
        default:
            return nil
        }
    }

    private static func typed<Result: JSONValueDecodable>(
        _ result: JSONValue, as type: Result.Type = Result.self, method: String
    ) throws -> Result {
        do {
            return try Result(json: result)
        } catch let error as DecodingError {
            throw BotAPIError.malformedResponse("\(method): the result does not fit: \(error.fieldProblem)")
        }
    }

    /// The JSON object of `parameters`, as a request body.
    private static func body(_ parameters: [String: JSONValue]) -> ByteBuffer {
        var buffer = ByteBuffer()
        JSONValue.object(parameters).write(to: &buffer)
        return buffer
    }

    /// The pause before resending a call that failed on the way for the `retries`+1st time:
    /// 0.1 s, then each four times longer (0.4, 1.6 s), so that the default three retries
    /// outlast a connection storm of a second or two rather than failing inside it.
    static func transientRetryDelay(retries: Int) -> Duration {
        .milliseconds(100) * (1 << (2 * min(retries, 8)))
    }

    // MARK: - One request

    enum RequestBody: Sendable {
        case json(ByteBuffer)
        case multipart(MultipartForm)
    }

    /// A Bot API answer: `{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., ...}`.
    private struct Envelope: JSONValueDecodable {
        var ok: Bool
        var result: JSONValue?
        var errorCode: Int?
        var description: String?
        var retryAfter: Int?

        init(json: JSONValue) throws {
            let fields = try JSONFields(json, of: Envelope.self)
            ok = try fields.required("ok")
            result = try fields.optional("result")
            errorCode = try fields.optional("error_code")
            description = try fields.optional("description")
            let parameters: JSONValue? = try fields.optional("parameters")
            retryAfter = try parameters.flatMap { try JSONFields($0, of: Envelope.self).optional("retry_after") }
        }
    }

    /// Sends one call through `HTTPClient.Request` and a `ResponseAccumulator`, which
    /// collect the whole answer on the connection's event loop and resume the caller once;
    /// `HTTPClientRequest` resumes it for the head and again for every part of the body.
    /// Returns the answer's `result`; `interruption`, if any, can end the call (while it
    /// waits for a place in ``ConcurrentCallLimit`` too) as the calling task's cancellation does.
    private func perform(
        _ method: String, body: RequestBody, timeout: Duration, interruption: CallInterruption? = nil
    ) async throws -> JSONValue {
        let response: HTTPClient.Response
        do {
            response = try await inFlight.run(interruptedBy: interruption) {
                if interruption?.isInterrupted == true { throw CancellationError() }
                let call = try self.start(method, body: body, timeout: timeout)
                guard interruption?.begin(cancellingWith: { call.cancel() }) ?? true else {
                    call.cancel()
                    throw CancellationError()
                }
                defer { interruption?.end() }
                return try await withTaskCancellationHandler {
                    try await call.futureResult.get()
                } onCancel: {
                    call.cancel()
                }
            }
        } catch {
            // Only what the interruption ended reads as one: a failure of the call's own
            // stays a failure, whenever the pause came.
            let interrupted = error is CancellationError || (error as? HTTPClientError) == .cancelled
            throw interrupted && interruption?.isInterrupted == true ? CancellationError() : callError(error)
        }
        return try result(of: method, in: response)
    }

    /// Starts one call on the client's connections (``BotAPIConnections``).
    ///
    /// Never inlined into ``perform(_:body:timeout:interruption:)``: the request it builds (URL, headers,
    /// body) would take about 3 KiB of that async frame, which a long poll keeps while it
    /// waits, for every bot.
    @inline(never)
    private func start(_ method: String, body: RequestBody, timeout: Duration) throws -> HTTPClient.Task<HTTPClient.Response> {
        let url = "\(configuration.baseURL)/bot\(token.secretValue)/\(method)"
        let request: HTTPClient.Request
        switch body {
        case .json(let buffer):
            request = try HTTPClient.Request(
                url: url, method: .POST, headers: ["Content-Type": "application/json"], body: .byteBuffer(buffer))
        case .multipart(let form):
            request = try HTTPClient.Request(
                url: url, method: .POST, headers: ["Content-Type": form.contentType], body: form.body())
        }
        guard !isShutDown.load(ordering: .relaxed) else { throw BotAPIError.transport("the client was shut down") }
        return try connections.client().execute(
            request: request, delegate: ResponseAccumulator(request: request, maxBodySize: Self.maxResponseBytes),
            deadline: .now() + TimeAmount(timeout))
    }

    /// What a call that failed before its answer throws: AsyncHTTPClient's and NIO's
    /// errors become ``BotAPIError/unreachable(_:)`` or ``BotAPIError/transport(_:)``, their
    /// text without the token, unless the task was cancelled. Never inlined, as ``start(_:body:timeout:)``: the text it
    /// builds would take room in the frame.
    @inline(never)
    private func callError(_ error: any Error) -> any Error {
        if error is CancellationError || error is BotAPIError { return error }
        if Task.isCancelled { return CancellationError() }
        let text = token.redact(String(describing: error))
        return Self.neverSent(error) ? BotAPIError.unreachable(text) : BotAPIError.transport(text)
    }

    /// Whether `error` failed a call before it was sent: AsyncHTTPClient fails a call with
    /// the error of the connection it waited for (or, with `retryConnectionEstablishment`
    /// off, of another call's): a connect refused or timed out, a host name that did not
    /// resolve or whose addresses all failed (`NIOConnectionError`), or no connection in
    /// time. An unreachable network on a bare `IOError` is left out: it also ends a
    /// connection whose request was written.
    private static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .connectTimeout || error == .getConnectionFromPoolTimeout
        }
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        return error is NIOConnectionError
    }

    /// The `result` of an answer, or the error it tells of. Never inlined into
    /// ``perform(_:body:timeout:interruption:)``, for the same reason as ``start(_:body:timeout:)``.
    @inline(never)
    private func result(of method: String, in response: HTTPClient.Response) throws -> JSONValue {
        logger.trace(
            "\(method) answered \(response.status.code)",
            metadata: ["method": "\(method)", "bytes": .stringConvertible(response.body?.readableBytes ?? 0)])
        return try decode(method, status: Int(response.status.code), body: response.body ?? ByteBuffer())
    }

    private func decode(_ method: String, status: Int, body: ByteBuffer) throws -> JSONValue {
        let notBotAPI = BotAPIError.malformedResponse("status \(status), body is not a Bot API response")
        let envelope: Envelope
        do {
            envelope = try Envelope(json: body.withUnsafeReadableBytes { try JSONValue(parsing: $0) })
        } catch {
            if status >= 500 { throw BotAPIError.server(status: status, description: "HTTP \(status)") }
            throw notBotAPI
        }
        if (200..<300).contains(status) {
            guard envelope.ok, let result = envelope.result else {
                throw BotAPIError.malformedResponse("ok response without a result")
            }
            return result
        }
        guard !envelope.ok else {
            if status >= 500 { throw BotAPIError.server(status: status, description: "HTTP \(status)") }
            throw notBotAPI
        }
        throw BotAPIError(
            status: envelope.errorCode ?? status,
            description: token.redact(envelope.description ?? "HTTP \(status)"),
            retryAfter: envelope.retryAfter
        )
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
