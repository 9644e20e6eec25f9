import TelegramBotAPI
import Testing

@Suite struct BotTokenTests {
    @Test func parsesIDAndSecret() throws {
        let token = try BotToken("42:abc-DEF_123")
        #expect(token.botID == "42")
        #expect(token.secretValue == "42:abc-DEF_123")
    }

    @Test(arguments: [
        ("", BotToken.ParseError.empty),
        ("42 :abc", .containsWhitespace),
        ("42:abc\n", .containsWhitespace),
        ("42abc", .missingColon),
        (":abc", .botIDNotNumeric),
        ("4x2:abc", .botIDNotNumeric),
        ("42:", .emptySecret),
    ])
    func rejects(_ input: String, _ expected: BotToken.ParseError) {
        #expect(throws: expected) { try BotToken(input) }
    }

    @Test func neverShowsTheSecret() {
        let renderings = [
            "\(testToken)", String(describing: testToken), String(reflecting: testToken), "\([testToken])",
            "\(Optional(testToken) as Any)", String(describing: Mirror(reflecting: testToken).children.map(\.value)),
        ]
        for text in renderings {
            #expect(!text.contains(testSecret), "\(text)")
            #expect(text.contains("123456789"))
        }
    }

    @Test func redactsTheSecretFromText() {
        #expect(testToken.redact("GET /bot123456789:\(testSecret)/getMe") == "GET /bot123456789:<redacted>/getMe")
    }
}
