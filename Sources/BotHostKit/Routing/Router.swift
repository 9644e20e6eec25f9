/// Hands each update to the first of its routes that takes it, or else to a fallback.
///
/// Make one in the plugin's `init` and call ``handle(_:)`` from the plugin's
/// ``BotPlugin/handle(_:)``:
///
/// ```swift
/// struct Counter: BotPlugin {
///     static let name = "counter"
///     let context: BotContext
///     let routes: Router
///
///     init(context: BotContext) async throws {
///         self.context = context
///         routes = Router(bot: context.bot) {
///             Command("start") { message, command in ... }   // `/start`, `/start@mybot PAYLOAD`
///             Callback(prefix: "inc:") { query, rest in ... }  // button data `inc:42`: rest is `42`
///             Text(/^hello (\w+)$/) { message, match in ... } // match.1 is the name
///             Updates(\.editedMessage) { edited in ... }
///         } fallback: { update in
///             context.logger.debug("not routed: \(update.kind)")
///         }
///     }
///
///     func handle(_ update: Update) async throws { try await routes.handle(update) }
/// }
/// ```
///
/// Routes are tried in the order written, and the first that takes an update is the only
/// one to handle it: put the narrow routes (`Callback("cancel")`) before the broad ones
/// (`Callback(prefix: "")`, `Text(/.*/)`).
///
/// Everything runs in the calling task, one route after another, so the host's promise
/// holds through the router: one chat's updates are handled one at a time, in order. A
/// route that needs work to go on after its update is handled (a reminder in an hour)
/// gives it to the ``Scheduler``, which stops it with the bot, not to a task of its own.
/// An error thrown by a route or the fallback comes out of ``handle(_:)`` as it is, for
/// the host to log and count. See <doc:RoutingUpdates>.
public struct Router: Sendable {
    private let bot: User
    private let routes: [any Route]
    private let fallback: (@Sendable (Update) async throws -> Void)?

    /// - Parameters:
    ///   - bot: the bot receiving the updates, ``BotContext/bot``: a command addressed to
    ///     another bot (`/start@otherbot`) is not its own.
    ///   - routes: the routes, in the order they are tried.
    ///   - fallback: what handles an update no route takes; without it, such an update
    ///     is ignored.
    public init(
        bot: User, @RouteBuilder routes: () -> [any Route], fallback: (@Sendable (Update) async throws -> Void)? = nil
    ) {
        self.bot = bot
        self.routes = routes()
        self.fallback = fallback
    }

    /// Hands `update` to the first route that takes it, or else to the fallback. Returns
    /// whether a route or the fallback handled it.
    @discardableResult
    public func handle(_ update: Update) async throws -> Bool {
        for route in routes {
            if try await route.handle(update, for: bot) { return true }
        }
        guard let fallback else { return false }
        try await fallback(update)
        return true
    }
}
