public import TelegramBotAPI

/// A message a bot sent, as the emulator received it.
public struct SentMessage: Sendable, Hashable {
    public var chatID: ChatID
    public var text: String
    public var messageID: Int64
    /// When the emulator received it: benchmarks measure reply latency with it.
    public var receivedAt: ContinuousClock.Instant
}

/// One `getUpdates` call as the emulator saw it: what was asked and how it ended.
public struct GetUpdatesCall: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Answered with updates (their ids, possibly none after the timeout).
        case updates([Int64])
        /// Answered 409 because a later `getUpdates` came in while this one waited.
        case terminatedByOtherPoll
        /// Answered 409 because a webhook is set.
        case webhookConflict
        /// Answered with an injected fault.
        case fault(EmulatorFault)
        /// The client went away before an answer (it cancelled its poll).
        case abandoned
        /// Still waiting for an update.
        case pending
    }

    public var offset: Int64?
    public var limit: Int
    public var timeout: Int
    public var outcome: Outcome
    /// When the poll came in.
    public var receivedAt: ContinuousClock.Instant = .now
}

/// A file uploaded with a call: its part's name (the parameter, or the `attach://` name),
/// the file name it announced, and how many bytes came.
public struct RecordedFile: Sendable, Hashable {
    public var name: String
    public var fileName: String
    public var contentType: String?
    public var size: Int

    public init(name: String, fileName: String, contentType: String? = nil, size: Int) {
        self.name = name
        self.fileName = fileName
        self.contentType = contentType
        self.size = size
    }
}

/// One Bot API call as the emulator received it (every method but `getUpdates`, which
/// ``GetUpdatesCall`` records), with what it answered.
public struct RecordedCall: Sendable, Hashable {
    /// The method's name as the spec spells it (`sendPhoto`), however the client cased it.
    public var method: String
    /// The parameters as sent: JSON values, or strings from a form or multipart body.
    public var parameters: [String: JSONValue]
    /// Files uploaded as multipart parts.
    public var files: [RecordedFile]
    /// The `result` answered, or `nil` when the call was refused (see ``error``).
    public var result: JSONValue?
    /// The description of the error answered, such as `Bad Request: message text is empty`.
    public var error: String?
    public var receivedAt: ContinuousClock.Instant

    /// Parameter `name` read as `type`; a form's text is read as JSON first.
    /// `nil` when it is missing or does not fit.
    public func parameter<Value: JSONValueDecodable>(_ name: String, as type: Value.Type = Value.self) -> Value? {
        guard let value = parameters[name] else { return nil }
        // A form sends everything as text: `5`, `true`, `{"inline_keyboard":...}`.
        if case .string(let text) = value, let parsed = try? JSONValue(parsing: Array(text.utf8)),
            let typed = try? Value(json: parsed)
        {
            return typed
        }
        return try? Value(json: value)
    }

    /// The message the call sent (or edited), as the emulator answered it.
    public var message: Message? {
        result.flatMap { try? Message(json: $0) }
    }
}

/// One webhook post of an update, as the emulator made it: the status the host answered
/// (`nil` when no answer came: refused, reset, timed out).
public struct WebhookDeliveryRecord: Sendable, Hashable {
    public var updateID: Int64
    public var status: Int?
    public var at: ContinuousClock.Instant
}

/// What a bot's webhook has to post now (``EmulatorState/takeWebhookWork(botID:now:)``).
struct WebhookWork: Sendable {
    var url: String
    var secret: String?
    var posts: [(id: Int64, body: JSONValue)]
    /// When the next update waiting for a retry is due.
    var nextRetry: ContinuousClock.Instant?
}
