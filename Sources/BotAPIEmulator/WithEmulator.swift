public import TelegramBotAPI

/// Runs `body` with a started emulator that knows `tokens`, and stops the emulator
/// afterwards, also when `body` throws: tests cannot leak a server.
public func withEmulator<T>(knowing tokens: [BotToken] = [], _ body: (BotAPIEmulator) async throws -> T) async throws -> T {
    let emulator = BotAPIEmulator()
    try await emulator.start()
    for token in tokens { emulator.addBot(token) }
    do {
        let result = try await body(emulator)
        await emulator.stop()
        return result
    } catch {
        await emulator.stop()
        throw error
    }
}
