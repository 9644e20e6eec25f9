/// A route for one kind of [update](https://core.telegram.org/bots/api#update): edited
/// messages, channel posts, reactions, members joining, inline queries...
///
/// ```swift
/// Updates(\.editedMessage) { edited in ... }
/// Updates(\.myChatMember) { change in ... }   // the bot was added to or removed from a chat
/// ```
///
/// It takes every update whose field at the key path is set, and hands the handler that
/// field. A kind newer than this version has no field: the fallback of ``Router`` gets
/// it, with `Update`'s `kind` and `raw`.
public struct Updates: Route {
    private let route: @Sendable (Update) async throws -> Bool

    /// - Parameters:
    ///   - kind: the `Update` field of the kind, such as `\.editedMessage`.
    ///   - handler: receives that field.
    public init<Value>(
        _ kind: any KeyPath<Update, Value?> & Sendable, _ handler: @escaping @Sendable (Value) async throws -> Void
    ) {
        route = { update in
            guard let value = update[keyPath: kind] else { return false }
            try await handler(value)
            return true
        }
    }

    public func handle(_ update: Update, for bot: User) async throws -> Bool {
        try await route(update)
    }
}
