import BotHostKit
import Testing

/// A plugin's `settings:` decoded as its type: defaults as written, misspelt keys found.
@Suite struct PluginSettingsTests {
    struct Greeting: DefaultedSettings {
        var greeting = "Hello"
        var every = SettingDuration(.seconds(3600))
        var chatID: Int64?
        var style = Style()

        struct Style: Codable, Sendable {
            var bold = false
        }

        enum CodingKeys: String, CodingKey {
            case greeting, every, style
            case chatID = "chat_id"
        }
    }

    struct Post: Codable, Sendable {
        var text: String
        var every: SettingDuration
    }

    struct ReadOnly: Decodable, Sendable {
        var text: String
    }

    private func settings(_ value: JSONValue) -> PluginSettings {
        let here = BotHostKit.SourceLocation(file: "bots.yaml", line: 7, column: 5)
        let locations: [String: BotHostKit.SourceLocation] = [
            "": here, "txt": BotHostKit.SourceLocation(file: "bots.yaml", line: 8, column: 7),
            "style.bolt": BotHostKit.SourceLocation(file: "bots.yaml", line: 9, column: 9),
        ]
        return PluginSettings(value: value, path: "bots[0].settings", locations: locations)
    }

    @Test func keysLeftOutKeepTheirDefaults() throws {
        let empty = try settings(.object([:])).decode(Greeting.self)
        #expect(empty.greeting == "Hello" && empty.every.duration == .seconds(3600) && empty.chatID == nil)
        let some = try settings(["greeting": "Hi", "chat_id": 42, "style": ["bold": true]]).decode(Greeting.self)
        #expect(some.greeting == "Hi" && some.chatID == 42 && some.style.bold && some.every.duration == .seconds(3600))
    }

    @Test func anUnknownKeyIsAnErrorWithTheNearestKnownOne() {
        let problems = settings(["greting": "Hi", "colour": "red", "chat_id": nil]).problems(decoding: Greeting.self)
        #expect(
            problems.map(\.description).sorted() == [
                "bots.yaml:7:5: bots[0].settings.colour: unknown key 'colour'",
                "bots.yaml:7:5: bots[0].settings.greting: unknown key 'greting'; did you mean 'greeting'?",
            ])
        let nested = #expect(throws: PluginSettingsError.self) {
            try settings(["style": ["bolt": true]]).decode(Greeting.self)
        }
        #expect(nested?.description == "bots.yaml:9:9: bots[0].settings.style.bolt: unknown key 'bolt'; did you mean 'bold'?")
    }

    @Test func aMisspeltRequiredKeyIsNamedAtTheMisspelling() {
        let problems = settings(["txt": "hi", "every": "10s"]).problems(decoding: Post.self)
        #expect(problems.map(\.description) == ["bots.yaml:8:7: bots[0].settings.txt: unknown key 'txt'; did you mean 'text'?"])
        let missing = settings(["every": "10s"]).problems(decoding: Post.self)
        #expect(missing.map(\.description) == ["bots.yaml:7:5: bots[0].settings: missing key 'text'"])
    }

    @Test func aBadValueNamesItsKey() {
        let problems = settings(["text": "hi", "every": "10 sec"]).problems(decoding: Post.self)
        #expect(problems.map(\.path) == ["bots[0].settings.every"])
        #expect(problems.first?.message.hasPrefix("expected a duration such as") == true)
        let zero = settings(["text": "hi", "every": "0s"]).problems(decoding: Post.self)
        #expect(zero.map(\.message) == ["expected a duration longer than 0s"])
    }

    @Test func decodableOnlySettingsAndJSONAcceptExtraKeys() throws {
        #expect(try settings(["text": "hi", "extra": 1]).decode(ReadOnly.self).text == "hi")
        #expect(try settings(["anything": ["goes": true]]).decode(JSONValue.self)["anything"]?["goes"] == .bool(true))
    }
}
