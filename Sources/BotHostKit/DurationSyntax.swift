/// Durations as operators write them: `250ms`, `5s`, `2m`, `1h`, or a bare number of
/// seconds (`30`, `0.5`).
///
/// Parsed exactly (`0.1s` is 100 ms, not a binary fraction of a second) and capped at a
/// year, so that a typo of a few extra digits is an error rather than an overflow trap.
package enum DurationSyntax {
    package enum ParseError: Error, Equatable, Sendable {
        case malformed
        case negative
        case tooLong
    }

    package static let longest = Duration.seconds(365 * 24 * 3600)
    package static let longestDescription = "365 days"
    package static let examples = "250ms, 5s, 2m, 1h or a number of seconds"

    /// Suffix and nanoseconds per unit; `ms` comes before `s` and `m`, which it ends and starts with.
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    package static func parse(_ text: String) -> Result<Duration, ParseError> {
        if text.hasPrefix("-") {
            return parse(String(text.dropFirst())).flatMap { _ in .failure(.negative) }
        }
        var number = Substring(text)
        var unitNanoseconds: Int64 = 1_000_000_000
        if let unit = units.first(where: { text.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            unitNanoseconds = unit.nanoseconds
        }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeDigits = parts.first, isDigits(wholeDigits), parts.count == 1 || isDigits(parts[1]) else {
            return .failure(.malformed)
        }
        guard let whole = Int64(wholeDigits) else { return .failure(.tooLong) }
        let (wholeNanoseconds, overflow) = whole.multipliedReportingOverflow(by: unitNanoseconds)
        guard !overflow else { return .failure(.tooLong) }
        let fraction = parts.count == 2 ? Double("0." + parts[1])! : 0
        let nanoseconds = wholeNanoseconds.addingReportingOverflow(Int64((fraction * Double(unitNanoseconds)).rounded()))
        guard !nanoseconds.overflow else { return .failure(.tooLong) }
        let duration = Duration.nanoseconds(nanoseconds.partialValue)
        return duration <= longest ? .success(duration) : .failure(.tooLong)
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// A duration in a plugin's settings, written as in the manifest: `250ms`, `5s`, `2m`,
/// `1h` or a bare number of seconds.
public struct SettingDuration: Sendable, Hashable, Codable {
    public var duration: Duration

    public init(_ duration: Duration) {
        self.duration = duration
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let seconds = try? container.decode(Double.self) {
            text = String(seconds)
        } else {
            text = try container.decode(String.self)
        }
        switch DurationSyntax.parse(text) {
        case .success(let duration) where duration <= .zero:
            // A job every 0 s runs without pause: a flood, never what was meant.
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a duration longer than 0s")
        case .success(let duration):
            self.duration = duration
        case .failure:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a duration such as \(DurationSyntax.examples)")
        }
    }

    /// As a number of seconds, which ``init(from:)`` reads back.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        let (seconds, attoseconds) = duration.components
        try container.encode(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
