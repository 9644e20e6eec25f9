import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization
import TelegramBotAPI

/// The emulator's HTTP face: `/bot<token>/<method>` for clients, `/control/...` for tests
/// and operators.
struct EmulatorRouter: Sendable {
    let state: EmulatorState
    let logger: Logger

    /// A client that cancels its poll and polls again is not a second poller, nor is a
    /// process that died while polling and was restarted; the emulator gives the first
    /// connection's close this long to be noticed (a busy machine takes tens of
    /// milliseconds).
    static let abandonedPollGrace = Duration.milliseconds(200)

    func build() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/control/:action") { request, context in
            try await control(action: context.parameters.get("action") ?? "", request: request)
        }
        router.get("/control/:action") { request, context in
            try await control(action: context.parameters.get("action") ?? "", request: request)
        }
        router.post("/:bot/:method") { request, context in
            try await botAPI(request: request, context: context)
        }
        router.get("/:bot/:method") { request, context in
            try await botAPI(request: request, context: context)
        }
        return router
    }

    // MARK: - Bot API

    private func botAPI(request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        guard let segment = context.parameters.get("bot"), segment.hasPrefix("bot"),
            let method = context.parameters.get("method")
        else { return Self.error(status: 404, description: "Not Found") }
        let botID: String
        switch state.authenticate(String(segment.dropFirst(3))) {
        case .success(let id): botID = id
        case .failure(.notFound): return Self.error(status: 404, description: "Not Found")
        case .failure(.unauthorized): return Self.error(status: 401, description: "Unauthorized")
        }
        let parameters = try await Self.parameters(of: &request)
        if let fault = state.takeFault(botID: botID, method: method) {
            if method.lowercased() == "getupdates" { state.recordFaultedPoll(botID: botID, fault: fault, parameters: parameters) }
            switch fault {
            case .delay(let duration): try await Task.sleep(for: duration)
            default: return Self.response(for: fault)
            }
        }
        let answer: EmulatorState.Answer
        switch method.lowercased() {
        case "getupdates":
            let (polled, waited) = try await getUpdates(botID: botID, parameters: parameters, request: request)
            var response = Self.response(for: polled)
            // A poll that waited watched its connection for the client going away, which
            // uses the connection up: say so, or the client would send its next request
            // on a connection that is closing.
            if waited { response.headers[.connection] = "close" }
            return response
        case "getme": answer = .result(jsonValue(of: state.user(of: botID)))
        case "sendmessage": answer = sendMessage(botID: botID, parameters: parameters)
        case "getwebhookinfo": answer = .result(jsonValue(of: state.webhookInfo(botID: botID)))
        case "deletewebhook":
            state.deleteWebhook(botID: botID, dropPendingUpdates: parameters.bool("drop_pending_updates") ?? false)
            answer = .result(.bool(true))
        case "setwebhook": answer = state.setWebhookLimited(botID: botID, url: parameters.string("url") ?? "")
        case "answercallbackquery", "close", "logout": answer = .result(.bool(true))
        default: answer = .error(status: 404, description: "Not Found: method not found")
        }
        return Self.response(for: answer)
    }

    /// The answer, and whether the poll waited for an update.
    private func getUpdates(
        botID: String, parameters: Parameters, request: Request
    ) async throws -> (
        EmulatorState.Answer, waited: Bool
    ) {
        let offset = parameters.int("offset").map(Int64.init)
        let limit = min(max(parameters.int("limit") ?? 100, 1), 100)
        let timeout = max(parameters.int("timeout") ?? 0, 0)

        let clock = ContinuousClock()
        let graceEnd = clock.now + Self.abandonedPollGrace
        while state.hasPendingPoll(botID: botID), clock.now < graceEnd {
            try await Task.sleep(for: .milliseconds(1))
        }

        let waiterID = Mutex<UInt64?>(nil)
        let state = self.state
        // A poll that waits ends by itself after its timeout; expiring a poll that was
        // already answered does nothing.
        let armExpiry: @Sendable (UInt64, Int) -> Void = { id, timeout in
            waiterID.withLock { $0 = id }
            Task {
                try? await Task.sleep(for: .seconds(timeout))
                state.expire(botID: botID, waiterID: id)
            }
        }
        // Updates below the offset are confirmed by this very poll, which may then wait.
        let mayWait =
            state.pollTimeout(botID: botID, offset: offset, asked: timeout) > 0
            && state.pendingUpdateIDs(botID: botID).allSatisfy { id in offset.map { id < $0 } ?? false }
        guard mayWait else {
            return (
                await state.getUpdates(botID: botID, offset: offset, limit: limit, timeout: timeout, onWait: armExpiry), false
            )
        }
        let answer = try await request.body.consumeWithInboundCloseHandler { _ in
            await state.getUpdates(botID: botID, offset: offset, limit: limit, timeout: timeout, onWait: armExpiry)
        } onInboundClosed: {
            if let id = waiterID.withLock({ $0 }) { state.abandon(botID: botID, waiterID: id) }
        }
        return (answer, true)
    }

    private func sendMessage(botID: String, parameters: Parameters) -> EmulatorState.Answer {
        guard let chat = parameters.chatID("chat_id") else {
            return .error(status: 400, description: "Bad Request: chat_id is empty")
        }
        guard let text = parameters.string("text"), !text.isEmpty else {
            return .error(status: 400, description: "Bad Request: message text is empty")
        }
        let id = state.recordSent(botID: botID, chatID: chat, text: text)
        let chatJSON: JSONValue =
            switch chat {
            case .id(let number): .object(["id": .number(Double(number)), "type": .string("private")])
            case .username(let name): .object(["id": .number(-1), "type": .string("channel"), "username": .string(name)])
            }
        return .result(
            .object([
                "message_id": .number(Double(id)),
                "from": jsonValue(of: state.user(of: botID)),
                "chat": chatJSON,
                "date": .number(Date().timeIntervalSince1970.rounded(.down)),
                "text": .string(text),
            ]))
    }

    // MARK: - Control API

    private func control(action: String, request: Request) async throws -> Response {
        var request = request
        let parameters = try await Self.parameters(of: &request)
        guard let tokenString = parameters.string("token"), let token = try? BotToken(tokenString) else {
            return Self.controlResponse(.object(["error": .string("a valid 'token' is required")]), status: .badRequest)
        }
        switch action {
        case "bots":
            return Self.controlResponse(jsonValue(of: state.addBot(token: token, username: parameters.string("username"))))
        case "messages":
            guard let text = parameters.string("text") else {
                return Self.controlResponse(.object(["error": .string("'text' is required")]), status: .badRequest)
            }
            let user = User(id: Int64(parameters.int("user_id") ?? 1001), firstName: parameters.string("first_name") ?? "Alice")
            let chat = parameters.int("chat_id").map(Int64.init)
            state.addBot(token: token, username: nil)
            let id = state.injectText(text, botID: token.botID, from: user, chatID: chat) ?? 0
            return Self.controlResponse(.object(["update_id": .number(Double(id))]))
        case "updates":
            guard let kind = parameters.string("kind"), let payload = parameters.values["payload"] else {
                return Self.controlResponse(.object(["error": .string("'kind' and 'payload' are required")]), status: .badRequest)
            }
            state.addBot(token: token, username: nil)
            let id = state.inject(botID: token.botID, kind: kind, payload: payload) ?? 0
            return Self.controlResponse(.object(["update_id": .number(Double(id))]))
        case "faults":
            guard let fault = Self.fault(from: parameters), let method = parameters.string("method") else {
                return Self.controlResponse(
                    .object(["error": .string("'method' and a known 'fault' are required")]), status: .badRequest)
            }
            state.addFault(fault, botID: token.botID, method: method, count: parameters.int("count") ?? 1)
            return Self.controlResponse(.object(["ok": .bool(true)]))
        case "webhook":
            state.setWebhook(botID: token.botID, url: parameters.string("url") ?? "")
            return Self.controlResponse(.object(["ok": .bool(true)]))
        case "restart_sequence":
            state.restartUpdateSequence(botID: token.botID, at: parameters.int("first_update_id").map(Int64.init))
            return Self.controlResponse(.object(["ok": .bool(true)]))
        case "sent":
            let sent = state.sentMessages(botID: token.botID).map { message -> JSONValue in
                .object([
                    "chat_id": jsonValue(of: message.chatID), "text": .string(message.text),
                    "message_id": .number(Double(message.messageID)),
                ])
            }
            return Self.controlResponse(.array(sent))
        case "calls":
            let calls = state.getUpdatesCalls(botID: token.botID).map { call -> JSONValue in
                .object([
                    "offset": call.offset.map { .number(Double($0)) } ?? .null,
                    "limit": .number(Double(call.limit)), "timeout": .number(Double(call.timeout)),
                    "outcome": .string(call.outcome.name),
                ])
            }
            return Self.controlResponse(.array(calls))
        default:
            return Self.controlResponse(.object(["error": .string("unknown control action")]), status: .notFound)
        }
    }

    private static func fault(from parameters: Parameters) -> EmulatorFault? {
        switch parameters.string("fault") {
        case "rate_limited": .rateLimited(retryAfter: parameters.int("retry_after") ?? 1)
        case "server_error": .serverError(status: parameters.int("status") ?? 500)
        case "delay": .delay(.milliseconds(parameters.int("delay_ms") ?? 1000))
        case "drop_connection": .dropConnection
        case "malformed_json": .malformedJSON
        case "conflict": .conflict
        default: nil
        }
    }

    // MARK: - Encoding

    private static func response(for answer: EmulatorState.Answer) -> Response {
        switch answer {
        case .result(let result): json(.object(["ok": .bool(true), "result": result]), status: .ok)
        case .error(let status, let description, let retryAfter):
            error(status: status, description: description, retryAfter: retryAfter)
        case .fault(let fault): response(for: fault)
        }
    }

    private static func response(for fault: EmulatorFault) -> Response {
        switch fault {
        case .rateLimited(let after):
            error(status: 429, description: "Too Many Requests: retry after \(after)", retryAfter: after)
        case .conflict:
            error(status: 409, description: EmulatorState.otherPollConflict)
        case .serverError(let status):
            error(status: status, description: status == 502 ? "Bad Gateway" : "Internal Server Error")
        case .delay:
            error(status: 500, description: "Internal Server Error")
        case .malformedJSON:
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"ok\":true,\"result\":[{\"update_id\"")))
        case .dropConnection:
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: "1000"],
                body: ResponseBody(contentLength: 1000) { writer in
                    try await writer.write(ByteBuffer(string: "{\"ok\":true,"))
                    throw DroppedConnection()
                })
        }
    }

    private struct DroppedConnection: Error {}

    static func error(status: Int, description: String, retryAfter: Int? = nil) -> Response {
        var body: [String: JSONValue] = [
            "ok": .bool(false), "error_code": .number(Double(status)), "description": .string(description),
        ]
        if let retryAfter { body["parameters"] = .object(["retry_after": .number(Double(retryAfter))]) }
        return json(.object(body), status: HTTPResponse.Status(code: status))
    }

    private static func controlResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(value, status: status)
    }

    private static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    // MARK: - Parameters

    /// Query items, then the body: a JSON object (whatever its content type says: `curl -d`
    /// sends JSON as a form) or form-encoded pairs, as Telegram accepts them.
    private static func parameters(of request: inout Request) async throws -> Parameters {
        var values: [String: JSONValue] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = .string(String(value)) }
        let body = try await request.collectBody(upTo: 1 << 20)
        guard body.readableBytes > 0 else { return Parameters(values: values) }
        let text = String(buffer: body)
        if text.drop(while: \.isWhitespace).hasPrefix("{") {
            guard case .object(let object) = try? JSONDecoder().decode(JSONValue.self, from: body) else {
                throw HTTPError(.badRequest, message: "the body is not a JSON object")
            }
            values.merge(object) { _, body in body }
        } else {
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (part: Substring) in
                    part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
                }
                values[decode(parts[0])] = .string(parts.count > 1 ? decode(parts[1]) : "")
            }
        }
        return Parameters(values: values)
    }
}

/// A method's parameters, from any of the encodings Telegram accepts: numbers may come as
/// strings, objects as JSON-encoded strings.
struct Parameters: Sendable {
    var values: [String: JSONValue]

    func string(_ key: String) -> String? {
        switch values[key] {
        case .string(let value): value
        case .number(let value): value.rounded() == value ? String(Int64(value)) : String(value)
        default: nil
        }
    }

    func int(_ key: String) -> Int? {
        switch values[key] {
        case .number(let value): Int(exactly: value.rounded(.down))
        case .string(let value): Int(value)
        default: nil
        }
    }

    func bool(_ key: String) -> Bool? {
        switch values[key] {
        case .bool(let value): value
        case .string(let value): value == "true" || value == "1"
        default: nil
        }
    }

    func chatID(_ key: String) -> ChatID? {
        if let id = int(key) { return .id(Int64(id)) }
        if let name = string(key), name.hasPrefix("@") { return .username(name) }
        return nil
    }
}

extension GetUpdatesCall.Outcome {
    /// A short name for the control API.
    var name: String {
        switch self {
        case .updates(let ids): "updates:\(ids.count)"
        case .terminatedByOtherPoll: "conflict"
        case .webhookConflict: "webhook_conflict"
        case .fault: "fault"
        case .abandoned: "abandoned"
        case .pending: "pending"
        }
    }
}
