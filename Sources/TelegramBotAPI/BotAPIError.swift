/// Everything a Bot API call can fail with, sorted by what the caller should do about it.
///
/// No case carries a URL or a token: descriptions are safe to log.
public enum BotAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 409: another `getUpdates` poller, a webhook, or something newer.
    case conflict(ConflictKind, description: String)
    /// 429: wait `retryAfter` before the next call.
    case rateLimited(retryAfter: Duration, description: String)
    /// 401: the token was rejected. Retrying cannot help.
    case unauthorized(description: String)
    /// 404: usually a malformed token, or a method the server does not know.
    case notFound(description: String)
    /// Another 4xx, such as 400 Bad Request or 403 Forbidden: the request itself is wrong.
    case rejected(status: Int, description: String)
    /// 5xx: the server failed; worth retrying.
    case server(status: Int, description: String)
    /// The request never got an answer: connection dropped or reset, timeout.
    case transport(String)
    /// The request was never sent: its connection could not be made (refused, not made
    /// within the connect timeout, a host name that did not resolve) or none came in time.
    /// Nothing reached the server, so sending it again cannot deliver anything twice.
    case unreachable(String)
    /// An answer that is not a Bot API response.
    case malformedResponse(String)

    /// Which 409 this is, told apart by the start of Telegram's description.
    public enum ConflictKind: Sendable, Equatable {
        /// `Conflict: terminated by other getUpdates request; ...`
        case otherGetUpdates
        /// `Conflict: can't use getUpdates method while webhook is active; ...`
        case webhookActive
        /// Any other conflict, such as `Conflict: terminated by setWebhook request`.
        case other

        public init(description: String) {
            let text = description.lowercased()
            if text.hasPrefix("conflict: terminated by other getupdates") {
                self = .otherGetUpdates
            } else if text.hasPrefix("conflict: can't use getupdates method while webhook is active") {
                self = .webhookActive
            } else {
                self = .other
            }
        }
    }

    /// Builds the error for an `ok: false` answer.
    public init(status: Int, description: String, retryAfter: Int?) {
        switch status {
        case 409: self = .conflict(ConflictKind(description: description), description: description)
        case 429: self = .rateLimited(retryAfter: .seconds(retryAfter ?? 1), description: description)
        case 401: self = .unauthorized(description: description)
        case 404: self = .notFound(description: description)
        case 500...: self = .server(status: status, description: description)
        default: self = .rejected(status: status, description: description)
        }
    }

    /// True for errors that say the token itself is bad: retrying cannot help.
    public var isTokenRejected: Bool {
        switch self {
        case .unauthorized, .notFound: true
        default: false
        }
    }

    /// True for failures of the way, not of the request: the same call may well succeed
    /// if sent again (transport errors, an unreachable server, 5xx, garbled answers).
    public var isTransient: Bool {
        switch self {
        case .transport, .unreachable, .server, .malformedResponse: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .conflict(_, let text): "409 \(text)"
        case .rateLimited(let after, let text):
            // Telegram's own words say it already: `Too Many Requests: retry after 2`.
            text.lowercased().contains("retry after") ? "429 \(text)" : "429 \(text) (retry after \(after.components.seconds)s)"
        case .unauthorized(let text): "401 \(text)"
        case .notFound(let text): "404 \(text)"
        case .rejected(let status, let text): "\(status) \(text)"
        case .server(let status, let text): "\(status) \(text)"
        case .transport(let text): "transport error: \(text)"
        case .unreachable(let text): "unreachable: \(text)"
        case .malformedResponse(let text): "malformed response: \(text)"
        }
    }
}
