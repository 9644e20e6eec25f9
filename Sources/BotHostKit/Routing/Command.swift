/// A route for a bot command in a new message: `/start`, `/start@mybot`, `/start PAYLOAD`.
///
/// ```swift
/// Command("start") { message, command in
///     let greeting = command.payload.map { "Welcome, friend of \($0)!" } ?? "Welcome!"
///     try await context.api.sendMessage(chatID: .id(message.chat.id), text: greeting)
/// }
/// ```
///
/// It takes a message (`Update`'s `message`) whose ``ParsedCommand`` has this name in
/// any case and is addressed to the bot (`/start@otherbot`, meant for another bot in the
/// same group, is not). It ignores edited messages, so that fixing a typo does not run a
/// command twice, and channel posts, which have no sender to answer; route those with
/// ``Updates`` and read their command with ``ParsedCommand/init(_:)``.
public struct Command: Route {
    /// The command's name, without the slash: `start`.
    public let name: String
    private let handler: @Sendable (Message, ParsedCommand) async throws -> Void

    /// - Parameters:
    ///   - name: the command's name without the slash, as registered with
    ///     [`setMyCommands`](https://core.telegram.org/bots/api#setmycommands): `start`,
    ///     not `/start`.
    ///   - handler: receives the message and its command, whose
    ///     ``ParsedCommand/arguments`` and ``ParsedCommand/payload`` are the rest of the text.
    public init(_ name: String, _ handler: @escaping @Sendable (Message, ParsedCommand) async throws -> Void) {
        self.name = name
        self.handler = handler
    }

    public func handle(_ update: Update, for bot: User) async throws -> Bool {
        guard let message = update.message, let command = ParsedCommand(message),
            command.name.lowercased() == name.lowercased(), command.isAddressed(to: bot)
        else { return false }
        try await handler(message, command)
        return true
    }
}
