/// A route for presses on inline buttons: a
/// [callback query](https://core.telegram.org/bots/api#callbackquery) whose `data` is a
/// given string, or starts with one.
///
/// ```swift
/// Callback("cancel") { query in ... }
/// Callback(prefix: "inc:") { query, rest in      // data `inc:42`: rest is `42`
///     guard let step = Int(rest) else { return }
///     ...
///     try await context.api.answerCallbackQuery(callbackQueryID: query.id)
/// }
/// ```
///
/// The user's client shows a progress indicator on the button until the bot calls
/// [`answerCallbackQuery`](https://core.telegram.org/bots/api#answercallbackquery); the
/// route leaves that to the handler, which knows whether to answer with a text or an alert.
/// A press on a game's button carries no `data` and is left to the next route.
public struct Callback: Route {
    private let route: @Sendable (CallbackQuery, String) async throws -> Bool

    /// Takes presses whose data is exactly `data`.
    public init(_ data: String, _ handler: @escaping @Sendable (CallbackQuery) async throws -> Void) {
        route = { query, pressed in
            guard pressed == data else { return false }
            try await handler(query)
            return true
        }
    }

    /// Takes presses whose data starts with `prefix`; the handler gets the rest of it.
    public init(prefix: String, _ handler: @escaping @Sendable (CallbackQuery, String) async throws -> Void) {
        route = { query, pressed in
            guard pressed.hasPrefix(prefix) else { return false }
            try await handler(query, String(pressed.dropFirst(prefix.count)))
            return true
        }
    }

    public func handle(_ update: Update, for bot: User) async throws -> Bool {
        guard let query = update.callbackQuery, let data = query.data else { return false }
        return try await route(query, data)
    }
}
