import BotHostKit
import Foundation
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// `Fixtures/manifests/good/*.yaml` load into exactly the model they describe.
@Suite struct GoodManifestTests {
    private func load(_ name: String) throws -> Manifest {
        try ManifestFixtures.load(ManifestFixtures.goodDirectory.appendingPathComponent(name).path)
    }

    private var goodDirectory: String { ManifestFixtures.goodDirectory.path }

    @Test func aMinimalManifestGetsEveryDefault() throws {
        let manifest = try load("minimal.yaml")

        #expect(manifest.file == "\(goodDirectory)/minimal.yaml")
        #expect(manifest.apiURL == .telegram)
        #expect(manifest.lock == .file(directory: "/run/user/1000/bothost"))
        #expect(manifest.onLocked == .fail)
        #expect(manifest.maxBots == nil)
        #expect(manifest.sandbox == SandboxSettings())
        #expect(manifest.shutdown == ShutdownSettings())
        #expect(manifest.admin == nil)
        try #require(manifest.bots.count == 1)
        let bot = manifest.bots[0]
        #expect(bot.name == "support")
        #expect(bot.token.secretValue == ManifestFixtures.environment["SUPPORT_BOT_TOKEN"])
        #expect(bot.plugin == "echo")
        #expect(bot.apiURL == .telegram)
        #expect(bot.retry == RetryPolicy())
        #expect(bot.polling == PollingSettings())
        #expect(bot.handlerTimeout == .seconds(60))
        #expect(bot.sendRetries == 3)
        #expect(bot.deleteWebhook == true)
        #expect(bot.limits == .telegram)
        #expect(bot.maxLimitWait == nil, "the handler timeout")
        #expect(bot.settings.value == .object([:]))
        #expect(bot.location == SourceLocation(file: manifest.file, line: 4, column: 5))
    }

    @Test func limitsMergeKeyByKeyAndOffLiftsThem() throws {
        let bots = try load("limits.yaml").bots
        try #require(bots.map(\.name) == ["defaults", "bulk", "unlimited", "hourly"])
        let telegram = RateLimits.telegram
        let chat = RateLimit(2, per: .seconds(1), burst: 5)
        #expect(bots[0].limits == RateLimits(perBot: telegram.perBot, perChat: chat, perGroup: telegram.perGroup))
        #expect(bots[0].maxLimitWait == .seconds(10))
        #expect(bots[1].limits == RateLimits(perBot: RateLimit(100, per: .seconds(10)), perChat: chat, perGroup: nil))
        #expect(bots[1].maxLimitWait == .seconds(10))
        #expect(bots[2].limits == .off)
        #expect(
            bots[3].limits
                == RateLimits(
                    perBot: RateLimit(500, per: .seconds(3600)), perChat: nil,
                    perGroup: RateLimit(20, per: .seconds(60), burst: 1)))
    }

    @Test func everyKeyIsReadAndDefaultsMergeKeyByKey() throws {
        let manifest = try load("full.yaml")

        #expect(manifest.apiURL == .url("https://bot-api.internal.example:8443/telegram"))
        #expect(
            manifest.lock
                == .postgres(
                    url: "postgres://bothost@db.internal.example/bothost",
                    passwordFile: "\(goodDirectory)/../tokens/pg-password"
                )
        )
        #expect(manifest.onLocked == .wait)
        #expect(manifest.maxBots == nil)
        #expect(manifest.sandbox == SandboxSettings(users: 5, messagesPerMinute: 60))
        #expect(
            manifest.shutdown == ShutdownSettings(timeout: .seconds(60), hookTimeout: .milliseconds(2500), drainTimeout: .zero))
        #expect(manifest.admin == AdminSettings(host: "::1", port: 9464))
        try #require(manifest.bots.map(\.name) == ["support", "sales_2", "docs-bot"])
        let (support, sales, docs) = (manifest.bots[0], manifest.bots[1], manifest.bots[2])

        #expect(support.token.botID == "1001")
        #expect(support.plugin == "echo")
        #expect(support.apiURL == manifest.apiURL)
        #expect(
            support.retry
                == RetryPolicy(
                    maxRetries: nil, initialDelay: .seconds(1), maxDelay: .seconds(600), backoffFactor: 1.5, jitter: 0.25)
        )
        #expect(
            support.polling
                == PollingSettings(
                    timeout: .seconds(25), limit: 10, allowedUpdates: ["message", "callback_query"], maxConcurrentUpdates: 16)
        )
        #expect(support.handlerTimeout == .seconds(90))
        #expect(support.sendRetries == 4)
        #expect(support.deleteWebhook == false)

        #expect(sales.token.secretValue == ManifestFixtures.environment["SALES_BOT_TOKEN"])
        #expect(sales.plugin == "autoposter")
        #expect(sales.apiURL == .sandbox)
        #expect(
            sales.retry
                == RetryPolicy(
                    maxRetries: 7, initialDelay: .seconds(2), maxDelay: .seconds(600), backoffFactor: 1.5, jitter: 0.25)
        )
        #expect(sales.polling.limit == 50)
        #expect(sales.handlerTimeout == .milliseconds(500))
        #expect(sales.sendRetries == 0)
        #expect(sales.deleteWebhook == true)

        #expect(docs.token.secretValue == "424242:AAHleakCANARYleakCANARYleakCANARY0042")
        #expect(docs.plugin == "docs-observer")
        #expect(docs.apiURL == .url("http://127.0.0.1:8081"))
    }

    @Test func settingsCarryTheirLocationsAndABotsOwnSettingsReplaceTheDefaults() throws {
        let manifest = try load("full.yaml")
        let file = manifest.file
        let (support, sales, docs) = (manifest.bots[0].settings, manifest.bots[1].settings, manifest.bots[2].settings)

        #expect(
            support.value
                == .object([
                    "chat_id": .number(-100123),
                    "targets": .array([.object(["url": .string("https://example.org/feed"), "every": .string("1h")])]),
                    "enabled": .bool(true),
                    "ratio": .number(0.5),
                    "note": .null,
                ])
        )
        #expect(support.path == "bots[0].settings")
        #expect(
            support.locations == [
                "": SourceLocation(file: file, line: 27, column: 7),
                "chat_id": SourceLocation(file: file, line: 27, column: 16),
                "targets": SourceLocation(file: file, line: 29, column: 9),
                "targets[0]": SourceLocation(file: file, line: 29, column: 11),
                "targets[0].url": SourceLocation(file: file, line: 29, column: 16),
                "targets[0].every": SourceLocation(file: file, line: 30, column: 18),
                "enabled": SourceLocation(file: file, line: 31, column: 16),
                "ratio": SourceLocation(file: file, line: 32, column: 14),
                "note": SourceLocation(file: file, line: 33, column: 13),
            ]
        )

        #expect(sales.value == .object(["greeting": .string("hello")]))
        #expect(sales.path == "defaults.settings")
        #expect(sales.locations["greeting"] == SourceLocation(file: file, line: 20, column: 25))

        #expect(docs.value == .object([:]))
        #expect(docs.path == "bots[2].settings")
    }

    @Test func aPluginDecodingErrorPointsIntoTheManifest() throws {
        struct SupportSettings: Decodable {
            struct Target: Decodable { var url: String; var every: Int }
            var targets: [Target]
        }
        let settings = try load("full.yaml").bots[0].settings

        let error = #expect(throws: PluginSettingsError.self) { try settings.decode(SupportSettings.self) }

        #expect(error?.location?.line == 30)
        #expect(error?.path == "bots[0].settings.targets[0].every")
    }

    @Test func aRelativeLockDirectoryAndHostWideSandbox() throws {
        let manifest = try load("file-lock.yaml")

        #expect(manifest.apiURL == .sandbox)
        #expect(manifest.lock == .file(directory: "\(goodDirectory)/locks"))
        #expect(manifest.onLocked == .skip)
        #expect(manifest.maxBots == 3)
        #expect(manifest.sandbox == SandboxSettings(users: 1, messagesPerMinute: 0))
        #expect(manifest.bots.map(\.apiURL) == [.sandbox, .telegram])
    }

    /// `examples/fleet.yaml` names a token file that each operator makes: checked without it.
    @Test func theFleetExampleNamesItsAdminTokenFile() throws {
        let path = ManifestFixtures.examplesDirectory.appendingPathComponent("fleet.yaml").path
        let manifest = try Manifest.load(
            path: path, environment: [:], plugins: ManifestFixtures.plugins.union(["chaos"]), secrets: .optional)

        #expect(manifest.admin?.tokenFile == ManifestFixtures.examplesDirectory.appendingPathComponent("admin.token").path)
        #expect(manifest.bots.map(\.name) == ["support", "sales", "drills"])
    }

    @Test func anAdminTokenFileIsReadTrimmed() throws {
        let directory = NSTemporaryDirectory() + "bothost-admin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "  0123456789abcdef0123\n".write(toFile: "\(directory)/admin.token", atomically: true, encoding: .utf8)
        let manifest = try Manifest.parse(
            yaml: """
                version: 1
                admin: { listen: 127.0.0.1:9464, token_file: admin.token }
                bots: [{ name: a, token: "1:x", plugin: echo }]
                """, file: "admin.yaml", baseDirectory: directory, environment: [:], plugins: ["echo"])

        #expect(manifest.admin?.token?.matches("0123456789abcdef0123") == true)
        #expect(manifest.admin?.tokenFile == "\(directory)/admin.token")
    }

    @Test(arguments: ["bots.yaml", "minimal.yaml", "multi-host.yaml"]) func theExamplesAreValid(name: String) throws {
        let path = ManifestFixtures.examplesDirectory.appendingPathComponent(name).path

        let manifest = try ManifestFixtures.load(path)

        #expect(!manifest.bots.isEmpty)
    }
}
