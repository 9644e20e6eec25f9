import AutoPoster
import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Testing

@Suite struct AutoPosterTests {
    @Test func postsOnScheduleAndStopsWithItsHook() async throws {
        let harness = try await PluginHarness.start(
            AutoPoster.self, settings: ["chat_id": -1001, "text": "stand-up at 10", "every": "1h"])
        for expected in 1...3 {
            await harness.clock.waitForSleepers()
            harness.advance(by: .seconds(3600))
            #expect(await harness.waitForSentMessages(count: expected).count == expected)
        }
        #expect(harness.sentMessages.allSatisfy { $0.chatID == .id(-1001) && $0.text == "stand-up at 10" })
        let outcomes = await harness.stop()
        #expect(outcomes.map(\.name) == ["scheduler"])
        #expect(outcomes.map(\.result) == [.done])
        harness.advance(by: .seconds(36000))
        #expect(harness.sentMessages.count == 3)
    }

    @Test func badSettingsPointAtTheManifest() async throws {
        await #expect(throws: PluginSettingsError.self, "a missing text") {
            _ = try await PluginHarness.start(AutoPoster.self, settings: ["chat_id": -1001, "every": "1h"])
        }
        let error = await #expect(throws: PluginSettingsError.self) {
            _ = try await PluginHarness.start(AutoPoster.self, settings: ["chat_id": -1001, "text": "x", "every": "soon"])
        }
        #expect(error?.path == "bots[0].settings.every")
    }
}
