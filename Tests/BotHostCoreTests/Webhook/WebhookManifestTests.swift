import Foundation
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// `ingress:` as the manifest reads it; its problems are in the broken corpus
/// (`ingress-*.yaml`).
@Suite struct WebhookManifestTests {
    @Test func theWebhookExampleIsRead() throws {
        let path = ManifestFixtures.examplesDirectory.appendingPathComponent("webhook.yaml").path

        let manifest = try ManifestFixtures.load(path)

        let ingress = manifest.ingress
        #expect(ingress.mode == .webhook)
        #expect(ingress.host == "127.0.0.1" && ingress.port == 8443)
        #expect(ingress.publicURL == "https://bots.example.com/tg")
        #expect(ingress.maxConnections == 40)
        #expect(ingress.trustedNetworks.map(\.description) == ["149.154.160.0/20", "91.108.4.0/22"])
        #expect(ingress.tls == nil)
        let support = try #require(manifest.bots.first { $0.name == "support" })
        #expect(support.ingress == .webhook)
        #expect(support.webhook?.url == "https://bots.example.com/tg/\(support.lockID.hex)")
        #expect(support.webhook?.url.contains(support.token.secretValue) == false)
        let sales = try #require(manifest.bots.first { $0.name == "sales" })
        #expect(sales.ingress == .polling && sales.webhook == nil)
    }

    @Test func withoutIngressEveryBotPolls() throws {
        let path = ManifestFixtures.goodDirectory.appendingPathComponent("minimal.yaml").path

        let manifest = try ManifestFixtures.load(path)

        #expect(manifest.ingress.mode == .polling)
        #expect(manifest.bots.allSatisfy { $0.ingress == .polling && $0.webhook == nil })
    }
}
