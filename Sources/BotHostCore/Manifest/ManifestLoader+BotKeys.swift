import BotHostKit
import Yams

/// Reading the shared keys, from a bot or from `defaults:`.
extension ManifestLoader {
    /// Telegram's long poll gives up after 50 s; a longer `timeout` would only be cut short.
    static let pollingTimeouts = Duration.zero...Duration.seconds(50)
    static let unlimited = "unlimited"

    func defaultOverrides(_ value: ManifestNode) -> BotOverrides {
        guard let fields = reader.fields(of: value, as: BotKey.self) else { return BotOverrides() }
        for key in BotKey.perBotOnly {
            if let misplaced = fields[key] {
                reader.report("'\(key.rawValue)' names one bot and cannot be a default", at: misplaced)
            }
        }
        return overrides(fields)
    }

    func overrides(_ fields: ManifestFields<BotKey>) -> BotOverrides {
        let positive = Duration.milliseconds(1)...DurationSyntax.longest
        var overrides = BotOverrides()
        overrides.plugin = fields[.plugin].flatMap(pluginName)
        overrides.apiURL = fields[.apiURL].flatMap(apiEndpoint)
        if let retry = fields[.retry].flatMap({ reader.fields(of: $0, as: RetryKey.self) }) {
            overrides.retry.maxRetries = retry[.maxRetries].flatMap(maxRetries)
            overrides.retry.initialDelay = retry[.initialDelay].flatMap { reader.duration($0, in: positive) }
            overrides.retry.maxDelay = retry[.maxDelay].flatMap { reader.duration($0, in: positive) }
            overrides.retry.backoffFactor = retry[.backoffFactor].flatMap { reader.number($0, in: 1...Double.infinity) }
            overrides.retry.jitter = retry[.jitter].flatMap { reader.number($0, in: 0...1) }
        }
        if let polling = fields[.polling].flatMap({ reader.fields(of: $0, as: PollingKey.self) }) {
            overrides.polling.timeout = polling[.timeout].flatMap { reader.duration($0, in: Self.pollingTimeouts) }
            overrides.polling.limit = polling[.limit].flatMap { reader.integer($0, in: 1...100) }
            overrides.polling.allowedUpdates = polling[.allowedUpdates].flatMap(allowedUpdates)
            overrides.polling.maxConcurrentUpdates = polling[.maxConcurrentUpdates].flatMap {
                reader.integer($0, in: 1...Int.max)
            }
        }
        overrides.handlerTimeout = fields[.handlerTimeout].flatMap { reader.duration($0, in: positive) }
        overrides.sendRetries = fields[.sendRetries].flatMap { reader.integer($0, in: 0...Int.max) }
        overrides.deleteWebhook = fields[.deleteWebhook].flatMap(reader.bool)
        overrides.maxAttempts = fields[.maxAttempts].flatMap { reader.integer($0, in: 1...Int.max) }
        overrides.isolated = fields[.isolated].flatMap(reader.bool)
        overrides.ingress = fields[.ingress].flatMap { reader.choice($0, of: IngressMode.self) }
        overrides.limits = fields[.limits].flatMap(limits) ?? LimitsOverrides()
        overrides.settings = fields[.settings].flatMap(reader.pluginSettings)
        return overrides
    }

    /// The name as written, also when no plugin of that name is registered (reported
    /// here), so that the bot is not reported as missing its plugin as well.
    private func pluginName(_ value: ManifestNode) -> String? {
        guard let name = reader.string(value) else { return nil }
        guard !plugins.contains(name) else { return name }
        let registered = plugins.sorted()
        let hint = NearestName.nearest(to: name, among: registered).map { "; did you mean '\($0)'?" }
        let known =
            registered.isEmpty ? "; no plugins are registered" : "; registered plugins: \(registered.joined(separator: ", "))"
        reader.report("unknown plugin\(SafeQuote.suffix(name))\(hint ?? known)", at: value)
        return name
    }

    /// An integer of at least 0, or `unlimited` (`.some(nil)`).
    private func maxRetries(_ value: ManifestNode) -> Int?? {
        if case .scalar(let scalar) = value.node, scalar.string == Self.unlimited { return .some(nil) }
        guard ManifestReader.tag(of: value.node) == .int else {
            reader.reportMismatch(expected: "an integer or \(Self.unlimited)", at: value)
            return nil
        }
        return reader.integer(value, in: 0...Int.max).map { Optional($0) }
    }

    /// Update kinds such as `message` and `callback_query`. Telegram adds kinds without
    /// notice, so any lowercase name is accepted.
    private func allowedUpdates(_ value: ManifestNode) -> [String]? {
        guard let elements = reader.list(value) else { return nil }
        let kinds = elements.map { element -> String? in
            guard let kind = reader.string(element) else { return nil }
            guard !kind.isEmpty, kind.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isLowercase) }) else {
                reader.reportMismatch(expected: "an update kind such as message or callback_query", at: element)
                return nil
            }
            return kind
        }
        return kinds.contains(nil) ? nil : kinds.compactMap { $0 }
    }
}
