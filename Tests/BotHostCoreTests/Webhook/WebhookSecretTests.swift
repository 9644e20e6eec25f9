import TelegramBotAPI
import Testing

@testable import BotHostCore

@Suite struct WebhookSecretTests {
    let token = try! BotToken("1001:AAHleakCANARYleakCANARYleakCANARY1001")

    @Test func isShapedAsTelegramAsksAndTheSameOnEveryHost() throws {
        let secret = WebhookSecret(token: token)

        #expect((1...256).contains(secret.value.count))
        #expect(secret.value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        #expect(secret == WebhookSecret(token: token))
        #expect(!secret.value.contains("leakCANARY"))
    }

    @Test func anotherTokenOfTheSameBotGetsAnotherSecret() throws {
        let revoked = try BotToken("1001:AAHotherOTHERotherOTHERotherOTHER10")

        #expect(WebhookSecret(token: revoked) != WebhookSecret(token: token))
    }

    @Test func matchesOnlyItselfAndNeverPrintsItself() {
        let secret = WebhookSecret(token: token)

        #expect(secret.matches(secret.value))
        #expect(!secret.matches(""))
        #expect(!secret.matches(String(secret.value.dropLast())))
        #expect(!secret.matches(secret.value + "x"))
        #expect(!secret.matches(String(secret.value.dropLast()) + "A") || secret.value.hasSuffix("A"))
        #expect(!"\(secret)".contains(secret.value))
    }
}
