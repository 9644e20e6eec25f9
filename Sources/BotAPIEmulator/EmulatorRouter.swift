import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import TelegramBotAPI

/// The emulator's HTTP face: `/bot<token>/<method>` for clients, `/control/...` for tests
/// and operators.
struct EmulatorRouter: Sendable {
    let state: EmulatorState
    let logger: Logger

    /// A client that cancels its poll and polls again is not a second poller, nor is a
    /// process that died while polling and was restarted; the emulator gives the first
    /// connection's close this long to be noticed. A busy machine takes tens of
    /// milliseconds, and a test run that loads both cores, more than 200: a host whose
    /// bots share their connections sends the next poll on a kept connection at once, where
    /// it used to open a new one first.
    static let abandonedPollGrace = Duration.seconds(1)

    func build() -> Router<EmulatorRequestContext> {
        let router = Router(context: EmulatorRequestContext.self)
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

    private func botAPI(request: Request, context: EmulatorRequestContext) async throws -> Response {
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
        let (parameters, files) = try await Self.parameters(of: &request)
        guard let known = BotAPIMethod.named(method) else {
            return Self.error(status: 404, description: "Not Found: method not found")
        }
        if let fault = state.takeFault(botID: botID, method: method) {
            if known.name == "getUpdates" { state.recordFaultedPoll(botID: botID, fault: fault, parameters: parameters) }
            switch fault {
            case .delay(let duration): try await Task.sleep(for: duration)
            case .rateLimited:
                state.countRateLimited(botID: botID)
                return Self.response(for: fault)
            default: return Self.response(for: fault)
            }
        }
        if known.name == "getUpdates" {
            return Self.response(for: try await getUpdates(botID: botID, parameters: parameters, channel: context.channel))
        }
        let answer = answer(known, botID: botID, parameters: parameters, files: files)
        if case .error(429, _, _) = answer { state.countRateLimited(botID: botID) }
        state.record(
            RecordedCall(
                method: known.name, parameters: parameters.values, files: files, result: answer.result,
                error: answer.errorDescription, receivedAt: .now),
            botID: botID)
        return Self.response(for: answer)
    }

    /// What a method answers: Telegram's checks first (required parameters, the chat),
    /// then a result of the spec's shape.
    private func answer(
        _ method: BotAPIMethod, botID: String, parameters: Parameters, files: [RecordedFile]
    ) -> EmulatorState.Answer {
        for name in method.required where parameters.values[name] == nil && !files.contains(where: { $0.name == name }) {
            return .error(status: 400, description: Self.missingDescription(name, method: method.name))
        }
        if parameters.values["chat_id"] != nil {
            guard let chat = parameters.chatID("chat_id"), state.knowsChat(chat, botID: botID) else {
                return .error(status: 400, description: "Bad Request: chat not found")
            }
        }
        var values = parameters.values
        for name in ["media", "message_ids"] { values[name] = parameters.json(name) }
        if let retryAfter = state.retryAfter(sending: OutgoingMessages(method: method.name, parameters: values), botID: botID) {
            return .error(status: 429, description: "Too Many Requests: retry after \(retryAfter)", retryAfter: retryAfter)
        }
        switch method.name {
        case "getMe": return .result(state.user(of: botID)?.json ?? .null)
        case "sendMessage": return sendMessage(botID: botID, parameters: parameters)
        case "getWebhookInfo": return .result(state.webhookInfo(botID: botID).json)
        case "deleteWebhook":
            state.deleteWebhook(botID: botID, dropPendingUpdates: parameters.bool("drop_pending_updates") ?? false)
            return .result(.bool(true))
        case "setWebhook":
            return state.setWebhookLimited(
                botID: botID, url: parameters.string("url") ?? "", secret: parameters.string("secret_token"),
                maxConnections: parameters.int("max_connections"),
                allowedUpdates: Self.strings(parameters.json("allowed_updates")))
        default: return .result(result(of: method, botID: botID, parameters: parameters, files: files))
        }
    }

    /// A list of strings, such as `allowed_updates`; `nil` for anything else.
    private static func strings(_ value: JSONValue?) -> [String]? {
        guard case .array(let elements) = value else { return nil }
        return elements.compactMap(\.stringValue)
    }

    /// Telegram's words for a missing parameter.
    static func missingDescription(_ name: String, method: String) -> String {
        switch name {
        case "text" where method == "sendMessage" || method.hasPrefix("edit"): "Bad Request: message text is empty"
        case "chat_id": "Bad Request: chat_id is empty"
        default: "Bad Request: \(name) is empty"
        }
    }

    /// A result of the shape the spec gives the method: messages for what sends one (with
    /// the media it sent, uploads with their sizes), `true`, or a sample object.
    private func result(
        of method: BotAPIMethod, botID: String, parameters: Parameters, files: [RecordedFile]
    ) -> JSONValue {
        switch method.returns {
        case "Boolean": return .bool(true)
        case "Message": return message(for: method.name, botID: botID, parameters: parameters, files: files)
        case "Message or Boolean":
            if parameters.values["inline_message_id"] != nil { return .bool(true) }
            var edited = message(for: method.name, botID: botID, parameters: parameters, files: files)
            if case .object(var fields) = edited, let id = parameters.int("message_id") {
                fields["message_id"] = .number(Double(id))
                fields["edit_date"] = .number(Date().timeIntervalSince1970.rounded(.down))
                edited = .object(fields)
            }
            return edited
        case "Array of Message":
            let count = max(
                1, parameters.json("media").flatMap { if case .array(let items) = $0 { items.count } else { nil } } ?? 1)
            return .array((0..<count).map { _ in message(for: method.name, botID: botID, parameters: parameters, files: files) })
        case "MessageId":
            return .object(["message_id": .number(Double(state.nextMessageID(botID: botID)))])
        case "Array of MessageId":
            let count =
                parameters.json("message_ids").flatMap { if case .array(let items) = $0 { items.count } else { nil } } ?? 1
            return .array((0..<count).map { _ in .object(["message_id": .number(Double(state.nextMessageID(botID: botID)))]) })
        case "Integer": return .number(1)
        case "String": return .string("https://t.me/+emulated")
        default: return BotAPISchema.shared.sample(of: method.returns)
        }
    }

    /// A message the bot sent with `method`: its chat, text or caption, and for a
    /// `send<Kind>` the kind's object (with an uploaded file's size).
    private func message(for method: String, botID: String, parameters: Parameters, files: [RecordedFile]) -> JSONValue {
        let chat = parameters.chatID("chat_id") ?? .id(0)
        let chatJSON: JSONValue =
            switch chat {
            case .id(let number):
                .object(["id": .number(Double(number)), "type": .string(number > 0 ? "private" : "supergroup")])
            case .username(let name): .object(["id": .number(-1), "type": .string("channel"), "username": .string(name)])
            }
        var fields: [String: JSONValue] = [
            "message_id": .number(Double(state.nextMessageID(botID: botID))),
            "from": state.user(of: botID)?.json ?? .null,
            "chat": chatJSON,
            "date": .number(Date().timeIntervalSince1970.rounded(.down)),
        ]
        for key in ["text", "caption"] { if let text = parameters.string(key) { fields[key] = .string(text) } }
        if let markup = parameters.json("reply_markup"), markup["inline_keyboard"] != nil { fields["reply_markup"] = markup }
        if method.hasPrefix("send") {
            let kind = Self.snakeCase(String(method.dropFirst(4)))
            if case .object(let messageFields)? = BotAPISchema.shared.definitions["Message"],
                let field = messageFields.first(where: { $0.name == kind }), kind != "text"
            {
                var media = BotAPISchema.shared.sample(of: field.types[0])
                if let upload = files.first(where: { $0.name == kind }) {
                    media = Self.withFile(media, size: upload.size, name: upload.fileName)
                }
                fields[kind] = media
            }
        }
        return .object(fields)
    }

    /// `VideoNote` → `video_note`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase, !out.isEmpty { out.append("_") }
            out.append(Character(character.lowercased()))
        }
        return out
    }

    /// A sample media object (or array of photo sizes) with an upload's size and name.
    private static func withFile(_ media: JSONValue, size: Int, name: String?) -> JSONValue {
        switch media {
        case .array(let items): return .array(items.map { withFile($0, size: size, name: name) })
        case .object(var fields):
            fields["file_size"] = .number(Double(size))
            fields["file_id"] = .string("emulated-\(size)")
            if let name, fields["file_name"] != nil || fields["title"] == nil { fields["file_name"] = .string(name) }
            return .object(fields)
        default: return media
        }
    }

    /// The answer to a poll; one that may wait watches its connection for the client
    /// going away, and abandons the poll then, as the real server notices a closed connection.
    private func getUpdates(
        botID: String, parameters: Parameters, channel: any Channel
    ) async throws -> EmulatorState.Answer {
        let offset = parameters.int("offset").map(Int64.init)
        let limit = min(max(parameters.int("limit") ?? 100, 1), 100)
        let timeout = max(parameters.int("timeout") ?? 0, 0)

        let clock = ContinuousClock()
        let graceEnd = clock.now + Self.abandonedPollGrace
        while state.hasPendingPoll(botID: botID), clock.now < graceEnd {
            try await Task.sleep(for: .milliseconds(1))
        }

        let state = self.state
        // A poll that waits ends by itself after its timeout; expiring a poll that was
        // already answered does nothing.
        let armExpiry: @Sendable (UInt64, Int) -> Void = { id, timeout in
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
            return await state.getUpdates(botID: botID, offset: offset, limit: limit, timeout: timeout, onWait: armExpiry)
        }
        // A poll whose client goes away is abandoned, also when that happened before it
        // waited; a channel that is no longer active has closed with its pipeline.
        let connection = try? await channel.pipeline.handler(type: InboundCloseWatcher.self).get()
        defer { connection?.forget() }
        return await state.getUpdates(botID: botID, offset: offset, limit: limit, timeout: timeout) { id, timeout in
            armExpiry(id, timeout)
            let abandon: @Sendable () -> Void = { state.abandon(botID: botID, waiterID: id) }
            if let connection {
                connection.whenClosed(abandon)
            } else if !channel.isActive {
                Task { abandon() }
            }
        }
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
        var message: [String: JSONValue] = [
            "message_id": .number(Double(id)),
            "from": state.user(of: botID)?.json ?? .null,
            "chat": chatJSON,
            "date": .number(Date().timeIntervalSince1970.rounded(.down)),
            "text": .string(text),
        ]
        if let markup = parameters.json("reply_markup"), markup["inline_keyboard"] != nil { message["reply_markup"] = markup }
        return .result(.object(message))
    }

    // MARK: - Control API

    private func control(action: String, request: Request) async throws -> Response {
        var request = request
        let (parameters, _) = try await Self.parameters(of: &request)
        guard let tokenString = parameters.string("token"), let token = try? BotToken(tokenString) else {
            return Self.controlResponse(.object(["error": .string("a valid 'token' is required")]), status: .badRequest)
        }
        switch action {
        case "bots":
            return Self.controlResponse(state.addBot(token: token, username: parameters.string("username")).json)
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
        case "rate_limited":
            return Self.controlResponse(.object(["count": .number(Double(state.rateLimitedCount(botID: token.botID)))]))
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
    /// sends JSON as a form), form-encoded pairs, or `multipart/form-data`, as Telegram
    /// accepts them. A multipart body is read as it streams in: its files are counted, not kept.
    private static func parameters(of request: inout Request) async throws -> (Parameters, [RecordedFile]) {
        var values: [String: JSONValue] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = .string(String(value)) }
        if let contentType = request.headers[.contentType], let boundary = MultipartReader.boundary(of: contentType) {
            var reader = MultipartReader(boundary: boundary)
            for try await chunk in request.body { reader.consume(chunk) }
            var files: [RecordedFile] = []
            for part in reader.parts {
                if let fileName = part.fileName {
                    files.append(
                        RecordedFile(name: part.name, fileName: fileName, contentType: part.contentType, size: part.size))
                } else {
                    values[part.name] = .string(String(decoding: part.text, as: UTF8.self))
                }
            }
            return (Parameters(values: values), files)
        }
        let body = try await request.collectBody(upTo: 1 << 20)
        guard body.readableBytes > 0 else { return (Parameters(values: values), []) }
        let text = String(buffer: body)
        if text.drop(while: \.isWhitespace).hasPrefix("{") {
            guard case .object(let object) = try? JSONValue(parsing: Array(body.readableBytesView)) else {
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
        return (Parameters(values: values), [])
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

    /// A value that may come JSON-encoded in a string (a form's `reply_markup`).
    func json(_ key: String) -> JSONValue? {
        switch values[key] {
        case .string(let text) where text.hasPrefix("{") || text.hasPrefix("["):
            (try? JSONValue(parsing: Array(text.utf8))) ?? .string(text)
        case let value: value
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
