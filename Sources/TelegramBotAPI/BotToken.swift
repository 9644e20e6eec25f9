import Foundation

/// A Telegram bot token: `<bot id>:<secret>`.
///
/// The secret is what lets anyone act as the bot, so a `BotToken` never shows it:
/// `description`, `debugDescription` and reflection print only the bot id. The raw
/// string is reachable only through ``secretValue``, which exists for the one place
/// that must send it: the request path built by ``BotAPIClient``.
public struct BotToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The digits before the colon: Telegram's numeric id of the bot. Not secret.
    public let botID: String
    private let secret: String

    /// Why a string is not a bot token. The messages never contain the string itself.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case containsWhitespace
        case missingColon
        case botIDNotNumeric
        case emptySecret

        public var description: String {
            switch self {
            case .empty: "the token is empty"
            case .containsWhitespace: "the token contains whitespace"
            case .missingColon: "the token has no ':' between bot id and secret"
            case .botIDNotNumeric: "the part before ':' must be the bot's numeric id"
            case .emptySecret: "the part after ':' is empty"
            }
        }
    }

    /// Parses `<digits>:<secret>`. The secret's length and alphabet are not checked
    /// beyond "no whitespace, not empty": Telegram documents neither.
    public init(_ string: String) throws(ParseError) {
        guard !string.isEmpty else { throw .empty }
        guard !string.contains(where: { $0.isWhitespace || $0.isNewline }) else { throw .containsWhitespace }
        guard let colon = string.firstIndex(of: ":") else { throw .missingColon }
        let id = string[..<colon]
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .botIDNotNumeric }
        let secret = string[string.index(after: colon)...]
        guard !secret.isEmpty else { throw .emptySecret }
        self.botID = String(id)
        self.secret = String(secret)
    }

    /// The whole token as Telegram expects it in a request path. Never log it.
    public var secretValue: String { "\(botID):\(secret)" }

    /// Removes every occurrence of this token's secret from `text`.
    ///
    /// Errors from lower layers (sockets, DNS, the HTTP client) do not know which parts of
    /// their text are secret; everything this module surfaces passes through here.
    public func redact(_ text: String) -> String {
        text.replacingOccurrences(of: secret, with: "<redacted>")
    }

    public var description: String { "bot \(botID)" }
    public var debugDescription: String { "BotToken(botID: \(botID), secret: <redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: ["botID": botID], displayStyle: .struct) }
}
