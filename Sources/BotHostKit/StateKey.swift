/// The key of a value in a bot's ``StateStore``: a name of your choice within a scope.
///
/// ```swift
/// .chat(message.chat.id, "count")                  // the chat's, whoever writes in it
/// .user(user.id, "language")                       // the user's, in every chat
/// .chat(message.chat.id, user: user.id, "draft")   // one user's in one chat (a form in a group)
/// .bot("last_digest")                              // the bot's own
/// ```
///
/// The same name in two scopes names two values, and no key reaches another bot's values,
/// even when both bots keep their state in one database. Chat and user ids are Telegram's
/// (`message.chat.id`, `user.id`); a group's chat id is negative.
public struct StateKey: Sendable, Hashable, CustomStringConvertible {
    /// Whose value it is.
    public enum Scope: Sendable, Hashable {
        /// The bot's own, shared by every chat.
        case bot
        /// One chat's: a private chat, a group, a channel.
        case chat(Int64)
        /// One user's, in whatever chat they write.
        case user(Int64)
        /// One user's within one chat.
        case chatUser(chat: Int64, user: Int64)
    }

    public let scope: Scope
    public let name: String
    /// Whether the host keeps this value for itself (``host(_:)``).
    private var isHosts = false

    public init(_ scope: Scope, _ name: String) {
        self.scope = scope
        self.name = name
    }

    /// The bot's own value `name`.
    public static func bot(_ name: String) -> StateKey {
        StateKey(.bot, name)
    }

    /// The value `name` of the chat `chatID`.
    public static func chat(_ chatID: Int64, _ name: String) -> StateKey {
        StateKey(.chat(chatID), name)
    }

    /// The value `name` of the user `userID`, the same in every chat.
    public static func user(_ userID: Int64, _ name: String) -> StateKey {
        StateKey(.user(userID), name)
    }

    /// The value `name` of the user `userID` in the chat `chatID`.
    public static func chat(_ chatID: Int64, user userID: Int64, _ name: String) -> StateKey {
        StateKey(.chatUser(chat: chatID, user: userID), name)
    }

    /// A value the host keeps for itself among the bot's state, such as what it last told
    /// `setWebhook`: its scope path is `host`, which no plugin's key has.
    package static func host(_ name: String) -> StateKey {
        var key = StateKey(.bot, name)
        key.isHosts = true
        return key
    }

    /// The scope as storage keeps it: `bot`, `chat/-100123`, `user/42`, `chat/-100123/user/42`;
    /// `host` for ``host(_:)``.
    package var scopePath: String {
        if isHosts { return "host" }
        return switch scope {
        case .bot: "bot"
        case .chat(let chat): "chat/\(chat)"
        case .user(let user): "user/\(user)"
        case .chatUser(let chat, let user): "chat/\(chat)/user/\(user)"
        }
    }

    /// `chat/-100123 "count"`: the scope, then the name quoted.
    public var description: String {
        "\(scopePath) \"\(name)\""
    }
}
