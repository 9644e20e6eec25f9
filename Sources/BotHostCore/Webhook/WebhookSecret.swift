import Crypto
package import TelegramBotAPI

/// The `secret_token` of a bot's webhook: what Telegram sends back in every delivery's
/// `X-Telegram-Bot-Api-Secret-Token` header, so that a request that lacks it is known
/// not to come from Telegram.
///
/// HMAC-SHA256 of a fixed label, keyed with the bot's token, in unpadded base64url: 43
/// characters of `A-Za-z0-9_-`, within Telegram's 1 to 256. Every host of a fleet derives
/// the same secret from the same token, so that any of them can take the bot over without
/// calling `setWebhook` again; a new token gives a new secret. Like the token, it is never
/// logged: its `description` is redacted.
package struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The header Telegram sends the secret in.
    package static let header = "X-Telegram-Bot-Api-Secret-Token"

    /// The secret itself, for `setWebhook` and for the comparison; never for a log.
    package let value: String

    package init(token: BotToken) {
        let key = SymmetricKey(data: Array(token.secretValue.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Array("bothost-webhook-secret/v1".utf8), using: key)
        value = Self.base64URL(Array(code))
    }

    /// A digest of the secret that tells nothing of it, to remember which secret was given
    /// to `setWebhook` (`getWebhookInfo` does not show it): SHA-256 of it, in hex.
    package var fingerprint: String {
        SHA256.hash(data: Array(value.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Whether `candidate` is the secret, in time that does not depend on where they differ.
    package func matches(_ candidate: String) -> Bool {
        let expected = Array(value.utf8)
        let given = Array(candidate.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    package var description: String { "[webhook secret]" }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let bits = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count { text.append(alphabet[Int(bits >> (18 - 6 * UInt32(position)) & 0x3f)]) }
            index += 3
        }
        return text
    }
}
