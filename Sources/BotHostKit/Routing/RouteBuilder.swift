/// Collects the routes of a ``Router`` written one per line, in order; `if`, `switch` and
/// `for` choose routes while the router is made (from the plugin's settings, say).
///
/// ```swift
/// Router(bot: context.bot) {
///     Command("start") { message, command in ... }
///     if !settings.admins.isEmpty {
///         Command("ban") { message, command in ... }
///     }
///     for (question, answer) in settings.faq {
///         Text(question) { message in ... }
///     }
/// }
/// ```
@resultBuilder
public enum RouteBuilder {
    public static func buildExpression(_ route: some Route) -> [any Route] { [route] }
    public static func buildBlock(_ routes: [any Route]...) -> [any Route] { routes.flatMap { $0 } }
    public static func buildOptional(_ routes: [any Route]?) -> [any Route] { routes ?? [] }
    public static func buildEither(first routes: [any Route]) -> [any Route] { routes }
    public static func buildEither(second routes: [any Route]) -> [any Route] { routes }
    public static func buildArray(_ routes: [[any Route]]) -> [any Route] { routes.flatMap { $0 } }
}
