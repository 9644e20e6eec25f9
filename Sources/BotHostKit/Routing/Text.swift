/// A route for new messages by their text: one that contains a match of a regular
/// expression, or one that is exactly a given string (the label of a reply keyboard's
/// button, say).
///
/// ```swift
/// Text(/^hello (\w+)$/) { message, match in
///     try await context.api.sendMessage(chatID: .id(message.chat.id), text: "Hello, \(match.1)!")
/// }
/// Text("❌ Cancel") { message in ... }
/// ```
///
/// A message's text is its `text` or, for media, its `caption`, as for ``Command``; a
/// command is text too, so put ``Command`` routes before a `Text` route that would match
/// them. Edited messages and channel posts are left to ``Updates``.
public struct Text: Route {
    private let route: @Sendable (Message, String) async throws -> Bool

    /// Takes messages whose text contains a match of `regex` (the first, as
    /// `firstMatch(of:)` finds it); anchor it with `^` and `$` to match the whole text.
    ///
    /// The route matches from the tasks of many chats at once. `Regex` is not marked
    /// `Sendable` ([swiftlang/swift#78111](https://github.com/swiftlang/swift/issues/78111))
    /// but is safe to share: it compiles its program once, atomically, and matching
    /// changes nothing in it. A regex built with a custom component or a capture
    /// `transform` must keep that true: its code runs from several tasks at once.
    public init<Output>(
        _ regex: Regex<Output>, _ handler: @escaping @Sendable (Message, Regex<Output>.Match) async throws -> Void
    ) {
        nonisolated(unsafe) let regex = regex
        route = { message, text in
            guard let match = try regex.firstMatch(in: text) else { return false }
            try await handler(message, match)
            return true
        }
    }

    /// Takes messages whose text is exactly `text`.
    public init(_ text: String, _ handler: @escaping @Sendable (Message) async throws -> Void) {
        route = { message, written in
            guard written == text else { return false }
            try await handler(message)
            return true
        }
    }

    public func handle(_ update: Update, for bot: User) async throws -> Bool {
        guard let message = update.message, let text = message.textOrCaption?.text else { return false }
        return try await route(message, text)
    }
}
