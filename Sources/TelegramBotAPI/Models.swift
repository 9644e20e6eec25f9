public import Foundation

// The hand-written parts of the Bot API's types: what the host needs of an update, the
// parameter types the spec leaves open (a chat id or a username, a file to upload, one of
// four keyboards, an edit's answer), and conveniences. Every object type is generated
// (Generated/), from the spec.

extension Update {
    /// The chat the update belongs to, if any: updates of one chat are handled in order.
    public var chatID: Int64? {
        (message ?? editedMessage ?? channelPost)?.chat.id ?? callbackQuery?.message?.chat?.id
            ?? raw[kind]?["chat"]?["id"]?.intValue.map(Int64.init)
    }

    /// An update's kind: its key next to `update_id`.
    static func kind(of json: JSONValue) -> String {
        guard case .object(let fields) = json else { return "unknown" }
        return fields.keys.filter { $0 != "update_id" }.min() ?? "unknown"
    }

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
        updates.reserveCapacity(elements.count)
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
            self.init(updateID: updateID)
            raw = json
            kind = Update.kind(of: json)
            decodingProblem = error.fieldProblem
        }
    }
}

extension User {
    /// A person (not a bot), as tests and the emulator make them up.
    public init(id: Int64, firstName: String, lastName: String? = nil, username: String? = nil) {
        self.init(id: id, isBot: false, firstName: firstName, lastName: lastName, username: username)
    }
}

extension MaybeInaccessibleMessage {
    /// The chat of the message, accessible or not.
    public var chat: Chat? {
        switch self {
        case .message(let message): message.chat
        case .inaccessibleMessage(let message): message.chat
        case .unknown(let json): json["chat"].flatMap { try? Chat(json: $0) }
        }
    }

    public var messageID: Int64? {
        switch self {
        case .message(let message): message.messageID
        case .inaccessibleMessage(let message): message.messageID
        case .unknown(let json): json["message_id"]?.intValue.map(Int64.init)
        }
    }

    /// The message, when the bot may still see it.
    public var message: Message? {
        if case .message(let message) = self { return message }
        return nil
    }
}

/// A chat to send to: a numeric id or a public `@username`.
public enum ChatID: Sendable, Hashable, Codable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    CustomStringConvertible, JSONValueDecodable, JSONValueEncodable
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

    public init(json: JSONValue) throws {
        if case .string(let name) = json {
            self = .username(name)
        } else {
            self = .id(try Int64(json: json))
        }
    }

    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue {
        switch self {
        case .id(let id): .number(Double(id))
        case .username(let name): .string(name)
        }
    }
}

/// A file for a method to send: one Telegram already has (``fileID(_:)``), one it
/// fetches (``url(_:)``), or one uploaded with the call as `multipart/form-data`
/// (``path(_:fileName:contentType:)``, read from disk while it is sent, never whole into
/// memory; ``bytes(_:fileName:contentType:)``).
public enum InputFile: Sendable, Hashable, JSONModel {
    case fileID(String)
    case url(String)
    case path(String, fileName: String? = nil, contentType: String? = nil)
    case bytes(Data, fileName: String, contentType: String? = nil)

    public init(json: JSONValue) throws {
        let text = try String(json: json)
        self = text.hasPrefix("https://") || text.hasPrefix("http://") ? .url(text) : .fileID(text)
    }

    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue {
        switch self {
        case .fileID(let text), .url(let text): .string(text)
        case .path, .bytes: .string("attach://" + files.attach(self))
        }
    }

    /// The file name its part announces.
    var fileName: String {
        switch self {
        case .fileID(let id): id
        case .url(let url): URL(string: url)?.lastPathComponent ?? "file"
        case .path(let path, let name, _): name ?? URL(fileURLWithPath: path).lastPathComponent
        case .bytes(_, let name, _): name
        }
    }

    var contentType: String {
        switch self {
        case .path(_, _, let type?), .bytes(_, _, let type?): type
        default: "application/octet-stream"
        }
    }
}

/// A `reply_markup`: one of the four keyboards Telegram accepts.
public enum ReplyMarkup: JSONModel {
    case inlineKeyboard(InlineKeyboardMarkup)
    case replyKeyboard(ReplyKeyboardMarkup)
    case removeKeyboard(ReplyKeyboardRemove)
    case forceReply(ForceReply)

    /// An inline keyboard of `rows` of buttons.
    public static func inline(_ rows: [[InlineKeyboardButton]]) -> ReplyMarkup {
        .inlineKeyboard(InlineKeyboardMarkup(inlineKeyboard: rows))
    }

    public init(json: JSONValue) throws {
        if json["inline_keyboard"] != nil {
            self = .inlineKeyboard(try InlineKeyboardMarkup(json: json))
        } else if json["keyboard"] != nil {
            self = .replyKeyboard(try ReplyKeyboardMarkup(json: json))
        } else if json["remove_keyboard"] != nil {
            self = .removeKeyboard(try ReplyKeyboardRemove(json: json))
        } else if json["force_reply"] != nil {
            self = .forceReply(try ForceReply(json: json))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not a keyboard"))
        }
    }

    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue {
        switch self {
        case .inlineKeyboard(let value): value.encodeJSON(into: &files)
        case .replyKeyboard(let value): value.encodeJSON(into: &files)
        case .removeKeyboard(let value): value.encodeJSON(into: &files)
        case .forceReply(let value): value.encodeJSON(into: &files)
        }
    }
}

extension InlineKeyboardMarkup {
    /// An inline keyboard of `rows` of buttons, for the methods that take only an inline
    /// keyboard (`editMessageText`, `editMessageReplyMarkup`, ...).
    public static func inline(_ rows: [[InlineKeyboardButton]]) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup(inlineKeyboard: rows)
    }
}

extension InlineKeyboardButton {
    /// A button that sends `data` back as a ``CallbackQuery``.
    public static func callback(_ text: String, data: String) -> InlineKeyboardButton {
        InlineKeyboardButton(text: text, callbackData: data)
    }

    /// A button that opens `url`.
    public static func link(_ text: String, url: String) -> InlineKeyboardButton {
        InlineKeyboardButton(text: text, url: url)
    }
}

/// What an edit of a message answers: the edited message, or `true` when the message
/// was an inline one (sent through the bot by a user), which the bot cannot see.
public enum MessageOrTrue: JSONModel {
    case message(Message)
    case done

    public var message: Message? {
        if case .message(let message) = self { return message }
        return nil
    }

    public init(json: JSONValue) throws {
        if case .bool = json {
            self = .done
        } else {
            self = .message(try Message(json: json))
        }
    }

    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue {
        switch self {
        case .message(let message): message.encodeJSON(into: &files)
        case .done: .bool(true)
        }
    }
}
