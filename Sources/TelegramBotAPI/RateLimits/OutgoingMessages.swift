/// What one call sends, as rate limits count it: the chat it goes to and how many messages.
///
/// Read from the method's description in the spec (``BotAPIMethod``) and the call's
/// parameters, so every method counts without a list of names: a call sends messages
/// when it names a chat (`chat_id`) and answers with what it sent (`Message`,
/// `MessageId`, or arrays of them): `sendMessage`, `sendPhoto`, `copyMessage`,
/// `forwardMessage`, `editMessageText` and the other sends and edits. An album
/// (`sendMediaGroup`) or a batch (`forwardMessages`, `copyMessages`) counts one message
/// per item. `sendChatAction`, `getChat`, `banChatMember` and other calls about a chat
/// send none. A method newer than the spec counts one message when it names a chat.
package struct OutgoingMessages: Sendable, Hashable {
    /// The chat the call names, if any; a `@username` in lowercase, a numeric string as an id.
    package let chat: ChatID?
    /// The messages it sends or edits there.
    package let count: Int

    package init(chat: ChatID?, count: Int) {
        self.chat = chat
        self.count = count
    }

    /// A call that names no chat and sends nothing.
    package static let none = OutgoingMessages(chat: nil, count: 0)

    package init(method: String, parameters: [String: JSONValue]) {
        let chat = parameters["chat_id"].flatMap(Self.chat)
        self.chat = chat
        guard chat != nil else {
            count = 0
            return
        }
        guard let returns = BotAPIMethod.named(method)?.returns else {
            count = 1
            return
        }
        switch returns {
        case "Message", "MessageId", "Message or Boolean":
            count = 1
        case "Array of Message", "Array of MessageId":
            let items = ["media", "message_ids"].lazy.compactMap { name -> Int? in
                if case .array(let items)? = parameters[name] { items.count } else { nil }
            }
            count = max(1, items.first ?? 1)
        default:
            count = 0
        }
    }

    /// Whether the chat is a group, supergroup or channel: a negative id, or a
    /// `@username` (a private chat has none that a bot can send to).
    package var isGroup: Bool {
        switch chat {
        case .id(let id)?: id < 0
        case .username?: true
        case nil: false
        }
    }

    private static func chat(_ value: JSONValue) -> ChatID? {
        switch value {
        case .number(let number): Int64(exactly: number).map(ChatID.id)
        case .string(let text): Int64(text).map(ChatID.id) ?? .username(text.lowercased())
        default: nil
        }
    }
}
