import BotHostKit
import TelegramBotAPI

/// Rates as operators write them: `30/s`, `20/m`, `100/h`, `5/10s`, each with an optional
/// burst: `1/s burst 3`. Without one, the burst is 1: `20/m` sends one message every 3 s.
enum RateLimitSyntax {
    enum ParseError: Error, Equatable {
        case malformed
        /// `0/s`: a rate lets at least one message through.
        case zero
    }

    static let examples = "30/s, 20/m or 1/s burst 3"

    static func parse(_ text: String) -> Result<RateLimit, ParseError> {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 1 || (words.count == 3 && words[1] == "burst") else { return .failure(.malformed) }
        let parts = words[0].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let messages = count(parts[0]), let interval = interval(parts[1]) else {
            return .failure(.malformed)
        }
        var burst: Int?
        if words.count == 3 {
            guard let written = count(words[2]) else { return .failure(.malformed) }
            burst = written
        }
        guard messages > 0, interval > .zero, burst != 0 else { return .failure(.zero) }
        return .success(RateLimit(messages, per: interval, burst: burst))
    }

    private static func count(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// `s`, `m`, `h`, or a duration: `10s`, `500ms`.
    private static func interval(_ text: Substring) -> Duration? {
        let written = text.first?.isNumber == true ? String(text) : "1" + text
        guard ["ms", "s", "m", "h"].contains(where: { written.hasSuffix($0) }) else { return nil }
        return try? DurationSyntax.parse(written).get()
    }
}
