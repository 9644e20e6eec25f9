package import Foundation

/// Telegram's `User`: a person or a bot.
public struct User: Sendable, Hashable, Codable {
    public var id: Int64
    public var isBot: Bool
    public var firstName: String
    public var lastName: String?
    public var username: String?

    public init(id: Int64, isBot: Bool = false, firstName: String, lastName: String? = nil, username: String? = nil) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
    }

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case username
    }
}

extension User: JSONValueDecodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: User.self)
        id = try fields.required("id")
        isBot = try fields.required("is_bot")
        firstName = try fields.required("first_name")
        lastName = try fields.optional("last_name")
        username = try fields.optional("username")
    }
}

/// Telegram's `Chat`.
public struct Chat: Sendable, Hashable, Codable {
    public var id: Int64
    /// `private`, `group`, `supergroup` or `channel`.
    public var type: String
    public var title: String?
    public var username: String?

    public init(id: Int64, type: String = "private", title: String? = nil, username: String? = nil) {
        self.id = id
        self.type = type
        self.title = title
        self.username = username
    }
}

extension Chat: JSONValueDecodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: Chat.self)
        id = try fields.required("id")
        type = try fields.required("type")
        title = try fields.optional("title")
        username = try fields.optional("username")
    }
}

/// Telegram's `Message`, with the fields a host and its plugins commonly need; the rest
/// stays in ``raw``.
public struct Message: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var from: User?
    public var chat: Chat
    public var date: Int64
    public var text: String?
    /// The whole message object as Telegram sent it.
    public var raw: JSONValue

    public init(messageID: Int64, from: User? = nil, chat: Chat, date: Int64, text: String? = nil) {
        self.messageID = messageID
        self.from = from
        self.chat = chat
        self.date = date
        self.text = text
        self.raw = .null
    }

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
        case from, chat, date, text
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        if case .object = raw {
            try raw.encode(to: encoder)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messageID, forKey: .messageID)
        try container.encodeIfPresent(from, forKey: .from)
        try container.encode(chat, forKey: .chat)
        try container.encode(date, forKey: .date)
        try container.encodeIfPresent(text, forKey: .text)
    }
}

extension Message: JSONValueDecodable {
    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: Message.self)
        messageID = try fields.required("message_id")
        from = try fields.optional("from")
        chat = try fields.required("chat")
        date = try fields.required("date")
        text = try fields.optional("text")
        raw = json
    }
}

/// Telegram's `CallbackQuery`: a press on an inline keyboard button.
public struct CallbackQuery: Sendable, Hashable, Codable {
    public var id: String
    public var from: User
    public var message: Message?
    public var data: String?

    public init(id: String, from: User, message: Message? = nil, data: String? = nil) {
        self.id = id
        self.from = from
        self.message = message
        self.data = data
    }
}

extension CallbackQuery: JSONValueDecodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: CallbackQuery.self)
        id = try fields.required("id")
        from = try fields.required("from")
        message = try fields.optional("message")
        data = try fields.optional("data")
    }
}

/// One incoming update.
///
/// The kinds a host routes on are decoded; every update, whatever its kind, keeps its
/// whole object in ``raw`` and its kind's key in ``kind``, so updates this version does
/// not know (Telegram adds some every few months) still reach plugins intact.
public struct Update: Sendable, Hashable, Codable {
    public var updateID: Int64
    /// The update's kind: the key next to `update_id`, such as `message` or `callback_query`.
    public var kind: String
    public var message: Message?
    public var editedMessage: Message?
    public var channelPost: Message?
    public var callbackQuery: CallbackQuery?
    public var raw: JSONValue
    /// Set when the update's typed fields do not fit this version's model: which field and
    /// why, such as `message.from.is_bot: missing`. The typed fields are then `nil`; the
    /// update keeps its ``updateID``, ``kind`` and ``raw``, so a plugin can still read it.
    public var decodingProblem: String?

    enum CodingKeys: String, CodingKey {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
        case channelPost = "channel_post"
        case callbackQuery = "callback_query"
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try raw.encode(to: encoder)
    }

    /// The chat the update belongs to, if any: updates of one chat are handled in order.
    public var chatID: Int64? {
        (message ?? editedMessage ?? channelPost ?? callbackQuery?.message)?.chat.id
            ?? raw[kind]?["chat"]?["id"]?.intValue.map(Int64.init)
    }
}

extension Update {
    /// Reads the updates of a `getUpdates` answer one by one, so that one update that does
    /// not fit the model never holds back the others: it is kept with its
    /// ``decodingProblem``. An update without a readable `update_id` can be neither handled
    /// nor confirmed; it is left out and its problem returned in `unreadable`.
    static func batch(from json: JSONValue) throws -> (updates: [Update], unreadable: [String]) {
        guard case .array(let elements) = json else {
            throw DecodingError.typeMismatch(
                [Update].self, .init(codingPath: [], debugDescription: "expected an array of updates"))
        }
        var updates: [Update] = []
        var unreadable: [String] = []
        for (index, element) in elements.enumerated() {
            do {
                updates.append(try Update(tolerating: element))
            } catch let error as DecodingError {
                unreadable.append("update [\(index)]: \(error.fieldProblem)")
            }
        }
        return (updates, unreadable)
    }

    /// Reads one update from JSON text (how the host's journal keeps it) as a batch reads
    /// each of its updates: one that does not fit the model keeps its ``decodingProblem``.
    /// Throws ``JSONParseError`` for text that is not JSON, or `DecodingError` without a
    /// readable `update_id`.
    package init(jsonText: some ContiguousBytes) throws {
        try self.init(tolerating: JSONValue(parsing: jsonText))
    }

    /// Reads the typed fields of `json`; when they do not fit the model, keeps the update
    /// with its ``decodingProblem``. Throws `DecodingError` without a readable `update_id`.
    private init(tolerating json: JSONValue) throws {
        do {
            self = try Update(json: json)
        } catch let error as DecodingError {
            guard let updateID = json["update_id"]?.intValue.map(Int64.init) else { throw error }
            self.init(updateID: updateID, raw: json, decodingProblem: error.fieldProblem)
        }
    }

    /// An update whose typed fields could not be read.
    private init(updateID: Int64, raw: JSONValue, decodingProblem: String) {
        self.updateID = updateID
        self.raw = raw
        self.decodingProblem = decodingProblem
        if case .object(let fields) = raw {
            kind = fields.keys.filter { $0 != "update_id" }.min() ?? "unknown"
        } else {
            kind = "unknown"
        }
    }
}

extension Update: JSONValueDecodable {
    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: Update.self)
        updateID = try fields.required("update_id")
        message = try fields.optional("message")
        editedMessage = try fields.optional("edited_message")
        channelPost = try fields.optional("channel_post")
        callbackQuery = try fields.optional("callback_query")
        raw = json
        kind = fields.keys.filter { $0 != "update_id" }.min() ?? "unknown"
    }
}

/// Telegram's `WebhookInfo`.
public struct WebhookInfo: Sendable, Hashable, Codable {
    /// Empty when no webhook is set.
    public var url: String
    public var pendingUpdateCount: Int

    public init(url: String, pendingUpdateCount: Int = 0) {
        self.url = url
        self.pendingUpdateCount = pendingUpdateCount
    }

    enum CodingKeys: String, CodingKey {
        case url
        case pendingUpdateCount = "pending_update_count"
    }
}

extension WebhookInfo: JSONValueDecodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    init(json: JSONValue) throws {
        let fields = try JSONFields(json, of: WebhookInfo.self)
        url = try fields.required("url")
        pendingUpdateCount = try fields.required("pending_update_count")
    }
}

/// A chat to send to: a numeric id or a public `@username`.
public enum ChatID: Sendable, Hashable, Codable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    case id(Int64)
    case username(String)

    public var description: String {
        switch self {
        case .id(let id): "\(id)"
        case .username(let name): name
        }
    }

    public init(integerLiteral value: Int64) { self = .id(value) }
    public init(stringLiteral value: String) { self = .username(value) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .id(let id): try container.encode(id)
        case .username(let name): try container.encode(name)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let id = try? container.decode(Int64.self) {
            self = .id(id)
        } else {
            self = .username(try container.decode(String.self))
        }
    }
}
