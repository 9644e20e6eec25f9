import BotAPIEmulator
import BotHostTesting
import Echo
import TelegramBotAPI
import Testing

@Suite struct EchoTests {
    @Test func answersTextInTheSameChat() async throws {
        let harness = try await PluginHarness.start(Echo.self)
        let replies = try await harness.send("hello there")
        #expect(replies.map(\.text) == ["hello there"])
        #expect(replies.map(\.chatID) == [.id(PluginHarness<Echo>.alice.id)])
        let inGroup = try await harness.send("in a group", chatID: -100)
        #expect(inGroup.map(\.chatID) == [.id(-100)])
        await harness.stop()
    }

    @Test func ignoresUpdatesWithoutText() async throws {
        let harness = try await PluginHarness.start(Echo.self)
        #expect(try await harness.press("button").isEmpty)
        await harness.stop()
    }
}
