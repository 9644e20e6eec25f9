/// One way of handling updates in a ``Router``: ``Command``, ``Callback``, ``Text``,
/// ``Updates``, or a type of your own.
///
/// A route looks at the update and, when it is one of its own, handles it and returns
/// `true`; otherwise it returns `false` at once and does nothing else, so that the router
/// can offer the update to the next route.
///
/// ```swift
/// /// Reactions to the bot's messages.
/// struct Reaction: Route {
///     let handler: @Sendable (MessageReactionUpdated) async throws -> Void
///     func handle(_ update: Update, for bot: User) async throws -> Bool {
///         guard let reaction = update.messageReaction else { return false }
///         try await handler(reaction)
///         return true
///     }
/// }
/// ```
public protocol Route: Sendable {
    /// Handles `update` when it is this route's, and says whether it was. `bot` is the bot
    /// receiving the update, for a route that must know whom a message addresses.
    func handle(_ update: Update, for bot: User) async throws -> Bool
}
