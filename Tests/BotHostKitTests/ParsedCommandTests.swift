import BotHostKit
import Testing

@Suite struct ParsedCommandTests {
    /// A message's text, where Telegram marked a command in it, and the command read from it
    /// (`name` `nil`: none).
    struct Form: Sendable, CustomTestStringConvertible {
        var text: String
        var marked: Range<Int>?
        var name: String?
        var botUsername: String? = nil
        var arguments = ""

        var testDescription: String { "\(text.debugDescription), marked \(marked.map { "\($0)" } ?? "nowhere")" }
    }

    static let forms: [Form] = [
        Form(text: "/start", marked: 0..<6, name: "start"),
        Form(text: "/start", marked: nil, name: "start"),
        Form(text: "/start@mybot", marked: 0..<12, name: "start", botUsername: "mybot"),
        Form(text: "/START@MyBot arg", marked: 0..<12, name: "START", botUsername: "MyBot", arguments: "arg"),
        Form(text: "/START@MyBot arg", marked: nil, name: "START", botUsername: "MyBot", arguments: "arg"),
        Form(text: "/start@otherbot", marked: 0..<15, name: "start", botUsername: "otherbot"),
        Form(text: "/remind  10m\n tea 🫖 \n", marked: 0..<7, name: "remind", arguments: "10m\n tea 🫖"),
        // Telegram ends a command where its characters end; unmarked, the first word must be one.
        Form(text: "/start.", marked: 0..<6, name: "start", arguments: "."),
        Form(text: "/start.", marked: nil, name: nil),
        Form(text: "/", marked: nil, name: nil),
        Form(text: "/ start", marked: nil, name: nil),
        Form(text: "/@mybot", marked: nil, name: nil),
        Form(text: "/start@", marked: nil, name: nil),
        Form(text: "/usr/bin/env", marked: nil, name: nil),
        Form(text: "start", marked: nil, name: nil),
        // A command later in the text is talked about, not given.
        Form(text: "hello /start", marked: 6..<12, name: nil),
        Form(text: "hello /start", marked: nil, name: nil),
        Form(text: "/st", marked: 0..<10, name: nil),
    ]

    @Test(arguments: forms) func readsTheCommandAtTheStart(form: Form) throws {
        let command = ParsedCommand(try Sample.message(form.text, command: form.marked))
        #expect(command?.name == form.name)
        guard let command else { return }
        #expect(command.botUsername == form.botUsername)
        #expect(command.arguments == form.arguments)
    }

    @Test func isForTheBotItNamesInAnyCaseOrForEveryBot() throws {
        func addressed(_ text: String, to bot: User = Sample.bot) throws -> Bool? {
            ParsedCommand(try Sample.message(text))?.isAddressed(to: bot)
        }
        #expect(try addressed("/start") == true)
        #expect(try addressed("/start@mybot") == true)
        #expect(try addressed("/START@MyBot arg") == true)
        #expect(try addressed("/start@otherbot") == false)
        #expect(try addressed("/start@mybot", to: User(id: 1, isBot: true, firstName: "No name")) == false)
    }

    @Test func aDeepLinkPayloadIsTheArgumentsOfStartWhenALinkCouldCarryThem() throws {
        func payload(_ text: String) throws -> String? { ParsedCommand(try Sample.message(text))?.payload }
        #expect(try payload("/start ref_42-x") == "ref_42-x")
        #expect(try payload("/START@mybot abc") == "abc")
        #expect(try payload("/start " + String(repeating: "a", count: 64)) == String(repeating: "a", count: 64))
        #expect(try payload("/start " + String(repeating: "a", count: 65)) == nil)
        #expect(try payload("/start") == nil)
        #expect(try payload("/start two words") == nil)
        #expect(try payload("/start é") == nil)
        #expect(try payload("/help ref_42") == nil)
        #expect(ParsedCommand(try Sample.message("/start two words"))?.arguments == "two words")
    }

    @Test func aCaptionCarriesCommandsAsTextDoes() throws {
        let marked = ParsedCommand(try Sample.message("/report spam", command: 0..<7, asCaption: true))
        #expect(marked?.name == "report")
        #expect(marked?.arguments == "spam")
        #expect(ParsedCommand(try Sample.message("/report spam", asCaption: true))?.name == "report")
        let sticker = try Message(json: ["message_id": 1, "date": 0, "chat": ["id": 1001, "type": "private"]])
        #expect(ParsedCommand(sticker) == nil)
    }
}
