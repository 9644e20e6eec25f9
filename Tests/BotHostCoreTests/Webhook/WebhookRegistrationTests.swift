import BotAPIEmulator
import BotHostKit
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// What a webhook bot's lock holder tells `setWebhook` when it starts.
@Suite struct WebhookRegistrationTests {
    /// `getWebhookInfo` shows the URL and settings but never the secret: a bot whose token
    /// changed (same bot id, so the same URL) must still get its new secret set, or every
    /// delivery carries the old one and is refused.
    @Test func aWebhookSetWithAnotherSecretIsSetAgain() async throws {
        let token = uniqueToken()
        let url = "http://127.0.0.1:8443/tg/\(LockID(botID: token.botID).hex)"
        try await withHost(
            bots: "  - { name: hooked, token: \"\(token.secretValue)\", plugin: recording }",
            extra: "ingress: { mode: webhook, listen: 127.0.0.1:0, public_url: http://127.0.0.1:8443/tg, max_connections: 4 }",
            tokens: [token],
            prepare: { emulator in
                emulator.setWebhook(url, secret: "the-previous-tokens-secret", maxConnections: 4, for: token)
            }
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "hooked") == .receiving })
            let calls = fixture.emulator.calls(by: token).filter { $0.method == "setWebhook" }
            #expect(calls.count == 1)
            #expect(calls.first?.parameters["secret_token"] == .string(WebhookSecret(token: token).value))
            #expect(calls.first?.parameters["url"] == .string(url))
        }
    }
}
