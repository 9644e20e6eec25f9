import BotAPIEmulator
import TelegramBotAPI
import TestSupport
import Testing

/// The emulator answers 429 past the limits it enforces, so that tests and benchmarks
/// see what Telegram would do. Clients here have no limits of their own and send no
/// retries; the emulator's buckets refill on a manual clock, so that a slow machine sees
/// the same answers.
@Suite struct EmulatorRateLimitTests {
    let clock = ManualClock()

    func unlimited(_ settings: inout BotAPIClient.Configuration) {
        settings.sendRetries = 0
    }

    @Test func aChatGetsItsBurstThen429WithRetryAfter() async throws {
        try await withClient(configuration: unlimited) { emulator, client in
            emulator.enforce(.telegram, clock: clock)
            for index in 1...3 { try await client.sendMessage(chatID: 1, text: "burst \(index)") }
            await #expect(
                throws: BotAPIError.rateLimited(retryAfter: .seconds(1), description: "Too Many Requests: retry after 1")
            ) {
                try await client.sendMessage(chatID: 1, text: "one too many")
            }
            try await client.sendMessage(chatID: 2, text: "another chat")
            #expect(emulator.rateLimitedCount(of: testToken) == 1)
            #expect(emulator.sentMessages(by: testToken).count == 4)
        }
    }

    @Test func aGroupGetsTwentyAMinute() async throws {
        try await withClient(configuration: unlimited) { emulator, client in
            let group = RateLimit(20, per: .seconds(60), burst: 20)
            emulator.enforce(RateLimits(perBot: nil, perChat: nil, perGroup: group), clock: clock)
            for index in 1...20 { try await client.sendMessage(chatID: -100, text: "group \(index)") }
            await #expect(
                throws: BotAPIError.rateLimited(retryAfter: .seconds(3), description: "Too Many Requests: retry after 3")
            ) {
                try await client.sendMessage(chatID: -100, text: "one too many")
            }
            for index in 1...25 { try await client.sendMessage(chatID: 100, text: "private \(index)") }
        }
    }

    /// 30 a second with a burst of 30, and a quarter of a second's grace: 37 of 40 at once.
    @Test func theBotGetsThirtyASecondWithAGrace() async throws {
        try await withClient(configuration: unlimited) { emulator, client in
            let bot = RateLimit(30, per: .seconds(1), burst: 30)
            emulator.enforce(RateLimits(perBot: bot, perChat: nil, perGroup: nil), clock: clock)
            var refused = 0
            for chat in 1...40 {
                do {
                    try await client.sendMessage(chatID: .id(Int64(chat)), text: "bulk")
                } catch BotAPIError.rateLimited {
                    refused += 1
                }
            }
            #expect(refused == 3)
            #expect(emulator.rateLimitedCount(of: testToken) == 3)
            clock.advance(by: .milliseconds(100))
            try await client.sendMessage(chatID: 41, text: "three tokens later")
        }
    }

    @Test func anAlbumCountsEachOfItsItems() async throws {
        try await withClient(configuration: unlimited) { emulator, client in
            emulator.enforce(.telegram, clock: clock)
            let photos = (1...4).map { InputMedia.photo(InputMediaPhoto(media: .fileID("photo-\($0)"))) }
            _ = try await client.sendMediaGroup(chatID: 1, media: photos)
            await #expect(throws: BotAPIError.self) { try await client.sendMessage(chatID: 1, text: "right after") }
        }
    }

    @Test func withoutLimitsEverythingGoes() async throws {
        try await withClient(configuration: unlimited) { emulator, client in
            for index in 1...50 { try await client.sendMessage(chatID: 1, text: "flood \(index)") }
            #expect(emulator.rateLimitedCount(of: testToken) == 0)
        }
    }
}
