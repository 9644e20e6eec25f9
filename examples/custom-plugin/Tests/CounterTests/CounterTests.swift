import BotHostTesting
import Counter
import Testing

@Suite struct CounterTests {
    @Test func countsPressesPerChatAcrossTheKeyboard() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        #expect(try await harness.send("/start").map(\.text) == ["Presses: 0"])
        let question = try #require(harness.sent.last)
        try await harness.press("press", on: question)
        try await harness.press("press", on: question)
        #expect(harness.sent.last?.text == "Presses: 2")
        #expect(harness.calls.filter { $0.method == "answerCallbackQuery" }.count == 2)

        let bob = User(id: 2002, firstName: "Bob")
        try await harness.send("/start", from: bob)
        let bobsQuestion = try #require(harness.sent.last)
        try await harness.press("press", from: bob, on: bobsQuestion)
        #expect(harness.sent.last?.text == "Presses: 1")
        await harness.stop()
    }

    @Test func echoesSendsAPhotoAndRemindsOnSchedule() async throws {
        let harness = try await PluginHarness.start(Counter.self, settings: ["reminder": "1m"])
        #expect(try await harness.send("hello").map(\.text) == ["hello"])
        try await harness.send("/photo")
        let photo = try #require(harness.calls.last)
        #expect(photo.method == "sendPhoto" && photo.files.first?.size == 35)

        try await harness.send("/remind")
        await harness.clock.waitForSleepers()
        harness.advance(by: .seconds(60))
        #expect(await harness.waitForSentMessages(count: 2).last?.text == "Time to press again")
        let hooks = await harness.stop()
        #expect(hooks.map(\.name) == ["counter"])
    }
}
