import BotHostTesting
import Testing

/// What a plugin author's test file gets from `import BotHostTesting` alone.
@Suite struct PluginHarnessTests {
    /// Answers an edit, and names the chat a button was pressed in.
    struct EditWatcher: BotPlugin {
        static let name = "edit-watcher"
        let routes: Router

        init(context: BotContext) async throws {
            routes = Router(bot: context.bot) {
                Updates(\.editedMessage) { edited in
                    try await context.api.sendMessage(chatID: .id(edited.chat.id), text: "edited: \(edited.text ?? "")")
                }
                Callback("where") { query in
                    let chat = query.message?.chat?.id ?? 0
                    try await context.api.sendMessage(chatID: .id(chat), text: "pressed in \(chat)")
                }
            }
        }

        func handle(_ update: Update) async throws { try await routes.handle(update) }
    }

    @Test func anyUpdateCanBeDeliveredAndAPressCarriesItsMessage() async throws {
        let harness = try await PluginHarness.start(EditWatcher.self)
        let edited = try await harness.deliver(
            "edited_message",
            ["message_id": 7, "date": 1, "edit_date": 2, "chat": ["id": 1001, "type": "private"], "text": "fixed"])
        #expect(edited.map(\.text) == ["edited: fixed"])
        let message = try #require(harness.sent.last)
        #expect(try await harness.press("where", on: message).map(\.text) == ["pressed in 1001"])
        await harness.stop()
    }

    @Test func settingsErrorsAreTheKitsOwn() async throws {
        struct Strict: BotPlugin {
            static let name = "strict"
            struct Settings: DefaultedSettings { var greeting = "Hello" }
            init(context: BotContext) async throws { _ = try context.settings.decode(Settings.self) }
            func handle(_ update: Update) async throws {}
        }
        let error = await #expect(throws: PluginSettingsError.self) {
            _ = try await PluginHarness.start(Strict.self, settings: ["greting": "Hi"])
        }
        #expect(error?.message == "unknown key 'greting'; did you mean 'greeting'?")
    }
}
