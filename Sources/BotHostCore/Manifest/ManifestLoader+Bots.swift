import BotHostKit
import TelegramBotAPI

/// `bots:`: each entry read, given its token, merged over `defaults:`, and checked against
/// the others.
extension ManifestLoader {
    static let maxBotNameLength = 64

    func bots(_ value: ManifestNode, defaults: BotOverrides, apiURL: APIEndpoint) -> [BotConfiguration] {
        guard let entries = reader.list(value) else { return [] }
        guard !entries.isEmpty else {
            reader.report("the list of bots is empty; declare at least one bot", at: value)
            return []
        }
        var entryByName: [String: ManifestNode] = [:]
        var entryByBotID: [String: ManifestNode] = [:]
        var bots: [BotConfiguration] = []
        for entry in entries {
            guard let fields = reader.fields(of: entry, as: BotKey.self) else { continue }
            let name = botName(of: fields)
            let token = self.token(of: fields)
            let own = overrides(fields)

            if let name, let nameNode = fields[.name] {
                if let first = entryByName[name] {
                    reader.report("the name\(SafeQuote.suffix(name)) is already used by \(first.path)", at: nameNode)
                } else {
                    entryByName[name] = entry
                }
            }
            if let token, token.unavailable == nil {
                if let first = entryByBotID[token.token.botID] {
                    reader.report(
                        "bot id \(token.token.botID) is already used by \(first.path): one bot can have only one poller",
                        at: token.source
                    )
                } else {
                    entryByBotID[token.token.botID] = entry
                }
            }
            guard let plugin = own.plugin ?? defaults.plugin else {
                if fields[.plugin] == nil {
                    reader.report("missing key 'plugin' (here or in defaults)", at: entry)
                }
                continue
            }
            guard let name, let token else { continue }
            var bot = BotConfiguration(
                name: name, token: token.token, plugin: plugin, apiURL: apiURL, location: reader.location(of: entry.node)
            )
            bot.unavailableToken = token.unavailable
            defaults.apply(to: &bot)
            own.apply(to: &bot)
            if bot.settings.locations.isEmpty {
                // No settings block: a settings problem points at the bot's entry.
                bot.settings = PluginSettings(
                    value: bot.settings.value, path: "\(entry.path).settings", locations: ["": bot.location])
            }
            bots.append(bot)
        }
        return bots
    }

    /// Names go into logs, metrics and lock files: lowercase letters, digits, `_` and `-`.
    private func botName(of fields: ManifestFields<BotKey>) -> String? {
        guard let nameNode = fields[.name] else {
            reader.reportMissing(BotKey.name, in: fields.mapping)
            return nil
        }
        guard let name = reader.string(nameNode) else { return nil }
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
        guard allowed, (1...Self.maxBotNameLength).contains(name.count) else {
            let rule = "a bot name is 1 to \(Self.maxBotNameLength) characters of a-z, 0-9, '_' and '-'"
            reader.report("\(rule), found \(ManifestReader.describe(nameNode.node))", at: nameNode)
            return nil
        }
        return name
    }
}
