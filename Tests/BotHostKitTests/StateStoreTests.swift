import BotHostKit
import BotHostTesting
import Testing

/// `context.state` as a plugin sees it, in the harness: keys by scope, typed JSON values,
/// times to live on the harness's clock, and errors that name their key.
@Suite struct StateStoreTests {
    /// Counts each chat's messages of the day: the plugin of the kit's article on state, as
    /// written there.
    struct Counter: BotPlugin {
        static let name = "counter"
        let context: BotContext

        init(context: BotContext) async throws {
            self.context = context
        }

        func handle(_ update: Update) async throws {
            guard let message = update.message else { return }
            let key = StateKey.chat(message.chat.id, "count")
            let count = try await context.state.value(Int.self, for: key) ?? 0
            try await context.state.set(count + 1, for: key, ttl: .seconds(86_400))
            try await context.api.sendMessage(chatID: .id(message.chat.id), text: "Message \(count + 1) today")
        }
    }

    struct Draft: Codable, Equatable {
        var step: Int
        var answers: [String]

        init(step: Int = 0, answers: [String] = []) {
            self.step = step
            self.answers = answers
        }
    }

    /// The article's test, as written there.
    @Test func theArticlesCounterCountsADayOfMessages() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        #expect(try await harness.send("hi").map(\.text) == ["Message 1 today"])
        harness.advance(by: .seconds(86_400))
        #expect(try await harness.send("hi").map(\.text) == ["Message 1 today"])
        #expect(try await harness.context.state.value(Int.self, for: .chat(1001, "count")) == 1)
        await harness.stop()
    }

    @Test func aPluginCountsPerChatUntilTheTTLPasses() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        #expect(try await harness.send("a").map(\.text) == ["Message 1 today"])
        #expect(try await harness.send("b").map(\.text) == ["Message 2 today"])
        #expect(try await harness.send("c", chatID: -100).map(\.text) == ["Message 1 today"])
        harness.advance(by: .seconds(86_399))
        #expect(try await harness.send("d").map(\.text) == ["Message 3 today"])
        harness.advance(by: .seconds(86_400))
        #expect(try await harness.send("e").map(\.text) == ["Message 1 today"])
        await harness.stop()
    }

    @Test func eachScopeKeepsItsOwnValue() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        let state = harness.context.state
        let keys: [StateKey] = [.bot("n"), .chat(5, "n"), .user(5, "n"), .chat(5, user: 5, "n"), .chat(5, "m")]
        for (index, key) in keys.enumerated() { try await state.set(index, for: key) }
        for (index, key) in keys.enumerated() { #expect(try await state.value(Int.self, for: key) == index, "\(key)") }

        let draft = Draft(step: 2, answers: ["tea", "no sugar"])
        try await state.set(draft, for: .chat(-100, user: 7, "draft"))
        #expect(try await state.value(for: .chat(-100, user: 7, "draft")) == draft)
        try await state.remove(.chat(-100, user: 7, "draft"))
        #expect(try await state.value(Draft.self, for: .chat(-100, user: 7, "draft")) == nil)
        try await state.remove(.chat(-100, user: 7, "draft"))
        await harness.stop()
    }

    @Test func aValueSetAgainTakesTheNewTTLOrNone() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        let state = harness.context.state
        try await state.set("soon", for: .bot("x"), ttl: .seconds(10))
        try await state.set("kept", for: .bot("x"))
        harness.advance(by: .seconds(3600))
        #expect(try await state.value(String.self, for: .bot("x")) == "kept")
        try await state.set("gone", for: .bot("x"), ttl: .zero)
        #expect(try await state.value(String.self, for: .bot("x")) == nil)
        await harness.stop()
    }

    @Test func aValueThatNoLongerDecodesThrowsNamingItsKeyAndStays() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        let state = harness.context.state
        let key = StateKey.chat(-100123, user: 42, "draft")
        try await state.set(["step": 2], for: key)
        let error = await #expect(throws: StateStoreError.self) { try await state.value(Draft.self, for: key) }
        #expect(error?.key == key)
        #expect(error == .undecodable(key, type: "Draft", problem: "answers: missing"), "\(String(describing: error))")
        #expect(error?.description == #"state chat/-100123/user/42 "draft" does not decode as Draft: answers: missing"#)
        #expect(try await state.value([String: Int].self, for: key) == ["step": 2])

        // The article's way to start over.
        let draft: Draft
        do {
            draft = try await state.value(Draft.self, for: key) ?? Draft()
        } catch StateStoreError.undecodable {
            draft = Draft()
        }
        #expect(draft == Draft())
        await harness.stop()
    }

    @Test func aValueThatIsNoJSONIsRefusedAndNothingIsWritten() async throws {
        let harness = try await PluginHarness.start(Counter.self)
        let state = harness.context.state
        try await state.set(1.5, for: .bot("ratio"))
        await #expect(throws: StateStoreError.self) { try await state.set(Double.nan, for: .bot("ratio")) }
        #expect(try await state.value(Double.self, for: .bot("ratio")) == 1.5)
        await harness.stop()
    }

    @Test func eachHarnessStartsWithNoState() async throws {
        let first = try await PluginHarness.start(Counter.self)
        try await first.context.state.set(1, for: .bot("n"))
        await first.stop()
        let second = try await PluginHarness.start(Counter.self)
        #expect(try await second.context.state.value(Int.self, for: .bot("n")) == nil)
        await second.stop()
    }
}
