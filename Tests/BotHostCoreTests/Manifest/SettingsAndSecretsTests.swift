import BotHostKit
import Echo
import Foundation
import Testing

@testable import BotHostCore

/// What `bothost validate` checks beyond the manifest's own keys: each bot's settings as
/// its plugin's type, and the tokens only when they must be at hand.
@Suite struct SettingsAndSecretsTests {
    struct Poster: BotPlugin {
        static let name = "poster"
        struct Settings: Codable, Sendable {
            var text: String
            var every: SettingDuration
        }
        init(context: BotContext) async throws {}
        func handle(_ update: Update) async throws {}
    }

    private static let yaml = """
        version: 1
        defaults: { plugin: poster, settings: { text: "hi", every: 1h } }
        bots:
          - name: good
            token_env: GOOD_TOKEN
          - name: typo
            token: "12:AAHsecret"
            settings:
              txt: hello
              every: 10 sec
          - name: bare
            token_file: /nonexistent/bare.token
            plugin: echo
        """

    private func load(
        _ secrets: SecretsPolicy, plugins: [any BotPlugin.Type] = [Poster.self, Echo.self]
    ) throws(ManifestError)
        -> Manifest
    {
        let manifest = try Manifest.parse(
            yaml: Self.yaml, file: "bots.yaml", baseDirectory: "/tmp", environment: [:],
            plugins: Set(plugins.map { $0.name }), secrets: secrets)
        let problems = manifest.settingsProblems(plugins: plugins)
        guard problems.isEmpty else { throw ManifestError(problems: problems) }
        return manifest
    }

    @Test func settingsProblemsPointAtTheirLines() {
        let error = #expect(throws: ManifestError.self) { try load(.optional) }
        #expect(
            error?.problems.map(\.description) == [
                "bots.yaml:9:12: bots[1].settings.txt: unknown key 'txt'; did you mean 'text'?"
            ])
        let fixed = Self.yaml.replacingOccurrences(of: "txt:", with: "text:")
        let again = #expect(throws: ManifestError.self) {
            let manifest = try Manifest.parse(
                yaml: fixed, file: "bots.yaml", baseDirectory: "/tmp", environment: [:], plugins: ["poster", "echo"],
                secrets: .optional)
            let problems = manifest.settingsProblems(plugins: [Poster.self, Echo.self])
            if !problems.isEmpty { throw ManifestError(problems: problems) }
        }
        #expect(again?.problems.count == 1)
        #expect(
            again?.problems.first?.description.hasPrefix("bots.yaml:10:14: bots[1].settings.every: expected a duration") == true)
    }

    @Test func tokensNotHereAreNotesUnlessRequired() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "txt:", with: "text:").replacingOccurrences(of: "10 sec", with: "10s")
        let manifest = try Manifest.parse(
            yaml: yaml, file: "bots.yaml", baseDirectory: "/tmp", environment: [:], plugins: ["poster", "echo"],
            secrets: .optional)
        #expect(manifest.bots.map(\.name) == ["good", "typo", "bare"])
        #expect(
            manifest.bots.compactMap(\.unavailableToken).map(\.description) == [
                "bots.yaml:5:16: bots[0].token_env: environment variable GOOD_TOKEN is not set",
                "bots.yaml:12:17: bots[2].token_file: cannot read token file /nonexistent/bare.token: no such file",
            ])
        #expect(manifest.settingsProblems(plugins: [Poster.self, Echo.self]).isEmpty)
        #expect(ValidateCommand.table(of: manifest).contains("(token not here)"))
        #expect(ValidateCommand.table(of: manifest).hasSuffix("valid, 3 bots (2 without their tokens here)"))

        let required = #expect(throws: ManifestError.self) {
            try Manifest.parse(
                yaml: yaml, file: "bots.yaml", baseDirectory: "/tmp", environment: [:], plugins: ["poster", "echo"])
        }
        #expect(required?.problems.map(\.path) == ["bots[0].token_env", "bots[2].token_file"])
    }

    @Test func aBotWithoutASettingsBlockIsPointedAtByItsEntry() {
        let yaml = """
            version: 1
            bots:
              - name: poster
                token: "12:AAHsecret"
                plugin: poster
            """
        let manifest = try? Manifest.parse(
            yaml: yaml, file: "bots.yaml", baseDirectory: "/tmp", environment: [:], plugins: ["poster"])
        #expect(
            manifest?.settingsProblems(plugins: [Poster.self]).map(\.description) == [
                "bots.yaml:3:5: bots[0].settings: missing key 'text'"
            ])
    }
}
