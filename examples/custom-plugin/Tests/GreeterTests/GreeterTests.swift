import BotHostTesting
import Greeter
import Testing

@Suite struct GreeterTests {
    @Test func greetsOnStart() async throws {
        let harness = try await PluginHarness.start(Greeter.self, settings: ["greeting": "Bonjour"])
        #expect(try await harness.send("/start").map(\.text) == ["Bonjour, Alice!"])
        #expect(try await harness.send("hi").isEmpty)
        let hooks = await harness.stop()
        #expect(hooks.map(\.name) == ["greeter"])
    }
}
