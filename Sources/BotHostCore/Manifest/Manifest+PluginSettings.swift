package import BotHostKit

extension Manifest {
    /// Reads the manifest at `path` as ``load(path:environment:plugins:secrets:)`` does,
    /// then decodes every bot's `settings:` as its plugin's ``BotPlugin/Settings``, so
    /// that a settings mistake is found before any bot starts.
    ///
    /// - Throws: every problem of the manifest, each at its line and column.
    package static func load(
        path: String, environment: [String: String], plugins: [any BotPlugin.Type], secrets: SecretsPolicy = .required
    ) throws(ManifestError) -> Manifest {
        // Read with any secrets missing, so that one pass reports those and the settings' problems.
        let manifest = try load(path: path, environment: environment, plugins: Set(plugins.map { $0.name }), secrets: .optional)
        var problems = manifest.settingsProblems(plugins: plugins)
        if secrets == .required {
            problems += manifest.bots.compactMap(\.unavailableToken)
            if let note = manifest.admin?.unavailableToken { problems.append(note) }
        }
        guard problems.isEmpty else { throw ManifestError(problems: problems.sorted(by: ManifestProblem.inFileOrder)) }
        return manifest
    }

    /// Each bot's settings problems, in file order.
    package func settingsProblems(plugins: [any BotPlugin.Type]) -> [ManifestProblem] {
        var checked: Set<String> = []
        var problems: [ManifestProblem] = []
        for bot in bots {
            guard let plugin = plugins.first(where: { $0.name == bot.plugin }) else { continue }
            // Several bots may share one `defaults.settings` block: report its problems once.
            guard checked.insert("\(bot.plugin) \(bot.settings.path)").inserted else { continue }
            for problem in plugin.settingsProblems(bot.settings) {
                problems.append(
                    ManifestProblem(location: problem.location ?? bot.location, path: problem.path, message: problem.message))
            }
        }
        return problems.sorted(by: ManifestProblem.inFileOrder)
    }
}

extension BotPlugin {
    fileprivate static func settingsProblems(_ settings: PluginSettings) -> [PluginSettingsError] {
        settings.problems(decoding: Settings.self)
    }
}
