/// The bot command a message starts with: `/start`, `/start@mybot`, `/start PAYLOAD`,
/// `/remind 10m tea`. See [commands](https://core.telegram.org/bots/features#commands).
///
/// | Message               | ``name`` | ``botUsername`` | ``arguments`` | ``payload`` |
/// |-----------------------|----------|-----------------|---------------|-------------|
/// | `/start`              | `start`  | `nil`           | empty         | `nil`       |
/// | `/START@MyBot  ref_7` | `START`  | `MyBot`         | `ref_7`       | `ref_7`     |
/// | `/remind 10m tea`     | `remind` | `nil`           | `10m tea`     | `nil`       |
///
/// `hello /start` and `/` alone have none: ``init(_:)`` returns `nil`.
///
/// The command is the message's
/// [`bot_command` entity](https://core.telegram.org/bots/api#messageentity) at offset 0,
/// as Telegram marks it; in a message without one (made by a test or a client that marks
/// nothing), the first word when it has a command's shape: `/`, letters, digits or `_`,
/// then optionally `@` and a username. A command later in the text does not count: the
/// user was writing about it, not giving it.
///
/// The message's text is its `text` or, for a photo, video, document or other media, its
/// `caption`: Telegram marks commands in both, and a photo sent with `/report spam` is a
/// command like any other.
public struct ParsedCommand: Sendable, Hashable {
    /// The command's name as written, without the slash: `start` for `/start@mybot x`.
    /// Telegram's command names are lowercase, but a user can type `/START`: compare
    /// ignoring case, as ``Command`` does.
    public var name: String
    /// The bot the command names after `@`, as written: `mybot` for `/start@mybot`; `nil`
    /// when it names none, which in a group means every bot in it.
    public var botUsername: String?
    /// The rest of the text after the command, without the whitespace around it: `10m tea`
    /// for `/remind 10m tea`; empty when there is none.
    public var arguments: String

    /// Reads the command `message` starts with, or `nil` when it starts with none.
    public init?(_ message: Message) {
        guard let (text, entities) = message.textOrCaption else { return nil }
        let command: Substring
        let markedByTelegram: Bool
        if let entity = entities.first(where: { $0.type == "bot_command" && $0.offset == 0 && $0.length > 0 }) {
            // Entity offsets and lengths count UTF-16 code units.
            guard let end = text.utf16.index(text.startIndex, offsetBy: entity.length, limitedBy: text.endIndex) else {
                return nil
            }
            command = text[..<end]
            markedByTelegram = true
        } else {
            command = text.prefix { !$0.isWhitespace }
            markedByTelegram = false
        }
        guard command.first == "/" else { return nil }
        let parts = command.dropFirst().split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty else { return nil }
        guard markedByTelegram || parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isWordCharacter) }) else {
            return nil
        }
        var arguments = text[command.endIndex...].drop { $0.isWhitespace }
        while arguments.last?.isWhitespace == true { arguments.removeLast() }
        self.name = String(name)
        self.botUsername = parts.count > 1 ? String(parts[1]) : nil
        self.arguments = String(arguments)
    }

    /// The parameter of a [deep link](https://core.telegram.org/bots/features#deep-linking)
    /// (`https://t.me/mybot?start=PAYLOAD`), which Telegram sends as `/start PAYLOAD`: the
    /// arguments of `/start` when they can be one (1 to 64 letters, digits, `_` and `-`),
    /// else `nil`.
    ///
    /// Anyone can type `/start anything`: a payload has a deep link's shape, not its
    /// origin, so check it as any other input.
    public var payload: String? {
        guard name.lowercased() == "start", (1...64).contains(arguments.count),
            arguments.allSatisfy({ Self.isWordCharacter($0) || $0 == "-" })
        else { return nil }
        return arguments
    }

    /// Whether the command is for `bot`: it names no bot, or names `bot`'s username in
    /// any case (`/start@MyBot` is for `mybot`).
    public func isAddressed(to bot: User) -> Bool {
        guard let botUsername else { return true }
        return bot.username?.lowercased() == botUsername.lowercased()
    }

    /// A character of a command's name or a bot's username: an ASCII letter, digit or `_`.
    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_")
    }
}
