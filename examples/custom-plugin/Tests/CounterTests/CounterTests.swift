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
        let photo: JSONValue = ["file_id": "AgAD", "file_unique_id": "AQAD", "width": 1, "height": 1]
        let captioned = try await harness.deliver(
            "message",
            ["message_id": 9, "date": 1, "chat": ["id": 1001, "type": "private"], "photo": [photo], "caption": "nice pic"])
        #expect(captioned.map(\.text) == ["nice pic"])
        try await harness.send("/photo")
        let sent = try #require(harness.calls.last)
        #expect(sent.method == "sendPhoto" && sent.files.first?.size == 35)

        try await harness.send("/remind")
        await harness.clock.waitForSleepers()
        harness.advance(by: .seconds(60))
        #expect(await harness.waitForSentMessages(count: 3).last?.text == "Time to press again")
        let hooks = await harness.stop()
        #expect(hooks.map(\.name) == ["counter"])
    }
}
