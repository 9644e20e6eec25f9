import BotAPIEmulator
import Logging
import TelegramBotAPI

/// A running emulator that knows `token`, and a client for it, both ended after `body`
/// (also when it throws).
func withClient<T>(
    token: BotToken = testToken, configuration: (inout BotAPIClient.Configuration) -> Void = { _ in },
    _ body: (BotAPIEmulator, BotAPIClient) async throws -> T
) async throws -> T {
    try await withEmulator(knowing: [token]) { emulator in
        var settings = BotAPIClient.Configuration(baseURL: emulator.baseURL)
        configuration(&settings)
        let client = BotAPIClient(token: token, configuration: settings)
        do {
            let result = try await body(emulator, client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// The secret part of every test token, searched for in every rendered error.
let testSecret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
let testToken = try! BotToken("123456789:\(testSecret)")
