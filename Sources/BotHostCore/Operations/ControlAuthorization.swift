import Hummingbird
import Logging

/// The gate of the control API's changes (every non-GET): `Authorization: Bearer` with the
/// token of `admin.token_file`.
///
/// 401 without the header, 403 with a wrong token, and 403 for every change when no
/// `token_file` is set: a control API without a token is off rather than open. A refusal
/// is logged with the peer's address, never with what it sent.
struct ControlAuthorization: RouterMiddleware {
    typealias Context = AdminRequestContext

    let token: AdminToken?
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token else {
            return refuse(request, context, .forbidden, "the control API is off: set admin.token_file in the manifest")
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            var response = refuse(request, context, .unauthorized, "missing Authorization: Bearer <token of admin.token_file>")
            response.headers[.wwwAuthenticate] = #"Bearer realm="bothost""#
            return response
        }
        guard token.matches(header.dropFirst("bearer ".count).drop(while: { $0 == " " })) else {
            return refuse(request, context, .forbidden, "the token does not match admin.token_file")
        }
        return try await next(request, context)
    }

    private func refuse(_ request: Request, _ context: Context, _ status: HTTPResponse.Status, _ reason: String) -> Response {
        // Anyone may send a refused request: its path goes into the log cut short.
        let path = request.uri.path.count > 120 ? request.uri.path.prefix(120) + "…" : Substring(request.uri.path)
        logger.warning("control: refused \(request.method) \(path) from \(context.peer): \(reason)")
        return AdminServer.error(reason, status: status)
    }
}
