import BotAPIEmulator
import Synchronization
import TestSupport
import Testing

@testable import TelegramBotAPI

/// A client with rate limits against the emulator over HTTP; the limits wait on a manual
/// clock.
@Suite struct ClientRateLimitTests {
    let clock = ManualClock()
    let observer = RecordingObserver()

    func limited(_ settings: inout BotAPIClient.Configuration) {
        settings.clock = clock
        settings.rateLimits = .telegramWithBursts
        settings.rateLimitObserver = observer
    }

    @Test func a429ForOneChatPausesThatChatOnly() async throws {
        try await withClient(configuration: limited) { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 5), method: "sendMessage", for: testToken)
            let first = Task { try await client.sendMessage(chatID: 1, text: "to one") }
            await clock.waitForSleepers(1)
            #expect(observer.rateLimited == 1)
            try await client.sendMessage(chatID: 2, text: "to two")
            #expect(emulator.sentMessages(by: testToken).map(\.text) == ["to two"])
            clock.advance(by: .seconds(5))
            _ = try await first.value
            #expect(emulator.sentMessages(by: testToken).map(\.text) == ["to two", "to one"])
        }
    }

    @Test func a429ForACallWithoutAChatPausesTheBot() async throws {
        try await withClient(configuration: limited) { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 3), method: "deleteWebhook", for: testToken)
            let deleting = Task { try await client.deleteWebhook() }
            await observer.waitForLength(1)
            let sending = Task { try await client.sendMessage(chatID: 2, text: "held") }
            await observer.waitForLength(2)
            #expect(emulator.sentMessages(by: testToken).isEmpty)
            clock.advance(by: .seconds(3))
            _ = try await deleting.value
            _ = try await sending.value
            #expect(emulator.sentMessages(by: testToken).map(\.text) == ["held"])
        }
    }

    @Test func aRetryAfterLongerThanTheMaxWaitIsNotWaitedFor() async throws {
        try await withClient(configuration: { settings in
            limited(&settings)
            settings.maxRateLimitWait = .seconds(10)
        }) { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 30), method: "sendMessage", for: testToken)
            await #expect(
                throws: BotAPIError.rateLimited(retryAfter: .seconds(30), description: "Too Many Requests: retry after 30")
            ) {
                try await client.sendMessage(chatID: 1, text: "refused by Telegram")
            }
            await #expect(throws: RateLimitWaitTooLong.self) {
                try await client.sendMessage(chatID: 1, text: "refused here")
            }
            #expect(emulator.callCount("sendMessage", of: testToken) == 1, "the second never left")
            try await client.sendMessage(chatID: 2, text: "another chat")
            #expect(emulator.sentMessages(by: testToken).map(\.text) == ["another chat"])
        }
    }

    @Test func anAlbumCountsEachOfItsItems() async throws {
        try await withClient(configuration: limited) { emulator, client in
            let photos = (1...4).map { InputMedia.photo(InputMediaPhoto(media: .fileID("photo-\($0)"))) }
            _ = try await client.sendMediaGroup(chatID: 1, media: photos)
            let next = Task { try await client.sendMessage(chatID: 1, text: "after the album") }
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            #expect(clock.sleeperCount == 1, "4 messages from a bucket of 3: the next waits 2 s")
            clock.advance(by: .seconds(1))
            _ = try await next.value
            #expect(observer.waits.map { $0.isAbout(.seconds(2)) } == [true])
        }
    }
}
