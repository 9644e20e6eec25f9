import BotHostKit

/// Messages and updates shaped as Telegram sends them, for routes to read.
enum Sample {
    /// The bot receiving them: `@mybot`.
    static let bot = User(id: 4242, isBot: true, firstName: "My Bot", username: "mybot")

    /// A message from Alice in her private chat. `command` is where Telegram marked a
    /// `bot_command` entity, in UTF-16 code units (`nil`: nowhere); with `asCaption`, the
    /// text is a photo's caption.
    static func message(_ text: String, command: Range<Int>? = nil, asCaption: Bool = false) throws -> Message {
        var fields: [String: JSONValue] = [
            "message_id": 7, "date": 1_700_000_000, "chat": ["id": 1001, "type": "private"],
            "from": ["id": 1001, "is_bot": false, "first_name": "Alice"],
        ]
        fields[asCaption ? "caption" : "text"] = .string(text)
        if asCaption {
            fields["photo"] = [["file_id": "p", "file_unique_id": "p", "width": 90, "height": 90]]
        }
        if let command {
            fields[asCaption ? "caption_entities" : "entities"] = [
                ["type": "bot_command", "offset": .number(Double(command.lowerBound)), "length": .number(Double(command.count))]
            ]
        }
        return try Message(json: .object(fields))
    }

    /// An update of `kind` (`message`, `edited_message`, `channel_post`) carrying `message`.
    static func update(_ message: Message, kind: String = "message") throws -> Update {
        try Update(json: ["update_id": 1, kind: message.json])
    }

    /// A new message with `text`; see ``message(_:command:asCaption:)``.
    static func update(_ text: String, command: Range<Int>? = nil, asCaption: Bool = false) throws -> Update {
        try update(message(text, command: command, asCaption: asCaption))
    }

    /// A press on an inline button carrying `data`; `nil` for a game's button, which
    /// carries none.
    static func press(_ data: String?) throws -> Update {
        var query: [String: JSONValue] = [
            "id": "q1", "chat_instance": "1001", "from": ["id": 1001, "is_bot": false, "first_name": "Alice"],
        ]
        query[data == nil ? "game_short_name" : "data"] = .string(data ?? "tetris")
        return try Update(json: ["update_id": 2, "callback_query": .object(query)])
    }
}
