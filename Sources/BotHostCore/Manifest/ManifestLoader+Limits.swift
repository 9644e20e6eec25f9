import BotHostKit
import TelegramBotAPI
import Yams

/// `limits:`, from a bot or from `defaults:`.
extension ManifestLoader {
    static let off = "off"

    /// `off`, or a mapping of `per_bot`, `per_chat`, `per_group` (each a rate or `off`) and
    /// `max_wait`.
    func limits(_ value: ManifestNode) -> LimitsOverrides? {
        if case .scalar(let scalar) = value.node {
            guard scalar.string == Self.off else {
                let keys = LimitsKey.allCases.map(\.rawValue).joined(separator: ", ")
                reader.reportMismatch(expected: "\(Self.off) or a mapping of \(keys)", at: value)
                return nil
            }
            return .off
        }
        guard let fields = reader.fields(of: value, as: LimitsKey.self) else { return nil }
        var limits = LimitsOverrides()
        limits.perBot = fields[.perBot].flatMap(rate)
        limits.perChat = fields[.perChat].flatMap(rate)
        limits.perGroup = fields[.perGroup].flatMap(rate)
        limits.maxWait = fields[.maxWait].flatMap { reader.duration($0, in: .milliseconds(1)...DurationSyntax.longest) }
        return limits
    }

    /// A rate such as `30/s` or `1/s burst 3`, or `off` (`.some(nil)`).
    private func rate(_ value: ManifestNode) -> RateLimit?? {
        let expected = "a rate (\(RateLimitSyntax.examples)) or \(Self.off)"
        guard case .scalar(let scalar) = value.node, ManifestReader.tag(of: value.node) != .null else {
            reader.reportMismatch(expected: expected, at: value)
            return nil
        }
        if scalar.string == Self.off { return .some(nil) }
        switch RateLimitSyntax.parse(scalar.string) {
        case .success(let rate):
            return .some(rate)
        case .failure(.zero):
            reader.report("a rate lets at least 1 message through; to lift the limit, write \(Self.off)", at: value)
        case .failure(.malformed):
            reader.reportMismatch(expected: expected, at: value)
        }
        return nil
    }
}
