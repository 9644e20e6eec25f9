import BotAPIEmulator
import Logging
import TelegramBotAPI

/// A running emulator with one known bot, and a client for it, torn down after `body`.
func withEmulator<T>(
    token: BotToken = testToken, configuration: (inout BotAPIClient.Configuration) -> Void = { _ in },
    _ body: (BotAPIEmulator, BotAPIClient) async throws -> T
) async throws -> T {
    let emulator = BotAPIEmulator()
    try await emulator.start()
    emulator.addBot(token)
    var settings = BotAPIClient.Configuration(baseURL: emulator.baseURL)
    configuration(&settings)
    let client = BotAPIClient(token: token, configuration: settings)
    do {
        let result = try await body(emulator, client)
        try await client.shutdown()
        await emulator.stop()
        return result
    } catch {
        try? await client.shutdown()
        await emulator.stop()
        throw error
    }
}

/// The secret part of every test token, searched for in every rendered error.
let testSecret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
let testToken = try! BotToken("123456789:\(testSecret)")
