import BotHostKit
import BotHostTesting
import Testing

@Suite struct RouterTests {
    @Test func aCommandMatchesInAnyCaseAndOnlyWhenAddressedToTheBot() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Command("start") { _, command in order.append("start [\(command.arguments)]") }
        } fallback: { _ in
            order.append("fallback")
        }
        for text in ["/start", "/start@mybot", "/START@MyBot arg", "/start@otherbot", "/starts", "/help"] {
            try await router.handle(Sample.update(text))
        }
        try await router.handle(Sample.update("/START@MyBot marked", command: 0..<12))
        #expect(order.all == ["start []", "start []", "start [arg]", "fallback", "fallback", "fallback", "start [marked]"])
    }

    @Test func aCommandLaterInTheTextIsText() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Command("start") { _, _ in order.append("command") }
            Text(/start/) { _, _ in order.append("text") }
        }
        try await router.handle(Sample.update("please /start", command: 7..<13))
        #expect(order.all == ["text"])
    }

    @Test func aTextRouteMatchesARegexOrExactText() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Text(/^hello (\w+)(?: from (\w+))?$/) { _, match in
                order.append("hello \(match.1) from \(match.2 ?? "nowhere")")
            }
            Text("Cancel") { message in order.append("cancel #\(message.messageID)") }
        } fallback: { update in
            order.append("fallback \(update.message?.text ?? "")")
        }
        for text in ["hello Bob", "hello Bob from Lyon", "hello big world", "Cancel", "cancel", "Cancel it"] {
            try await router.handle(Sample.update(text))
        }
        #expect(
            order.all == [
                "hello Bob from nowhere", "hello Bob from Lyon", "fallback hello big world", "cancel #7", "fallback cancel",
                "fallback Cancel it",
            ])
    }

    @Test func aCaptionIsTextForCommandsAndTextRoutes() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Command("report") { message, command in order.append("report [\(command.arguments)] photo: \(message.photo != nil)") }
            Text(/hello/) { _, _ in order.append("text") }
        }
        try await router.handle(Sample.update("/report spam", command: 0..<7, asCaption: true))
        try await router.handle(Sample.update("hello there", asCaption: true))
        #expect(order.all == ["report [spam] photo: true", "text"])
    }

    @Test func aCallbackMatchesItsDataExactlyOrByPrefix() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Callback("cancel") { query in order.append("cancel \(query.id)") }
            Callback(prefix: "inc:") { _, rest in order.append("inc [\(rest)]") }
        } fallback: { update in
            order.append("fallback \(update.callbackQuery?.data ?? "no data")")
        }
        for data in ["cancel", "inc:42", "inc:", "cancelled", "dec:1", nil] {
            try await router.handle(Sample.press(data))
        }
        #expect(
            order.all == ["cancel q1", "inc [42]", "inc []", "fallback cancelled", "fallback dec:1", "fallback no data"])
    }

    @Test func anUpdateKindRouteTakesUpdatesOfItsKind() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Command("start") { _, _ in order.append("command") }
            Updates(\.editedMessage) { edited in order.append("edited \(edited.text ?? "")") }
            Updates(\.channelPost) { post in order.append("post \(post.text ?? "")") }
            Updates(\.callbackQuery) { query in order.append("query \(query.gameShortName ?? "")") }
        }
        let start = try Sample.message("/start", command: 0..<6)
        try await router.handle(Sample.update(start, kind: "edited_message"))
        try await router.handle(Sample.update(start, kind: "channel_post"))
        try await router.handle(Sample.press(nil))
        #expect(order.all == ["edited /start", "post /start", "query tetris"])
    }

    @Test func theFirstMatchingRouteWins() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Text(/./) { _, _ in order.append("any text") }
            Command("start") { _, _ in order.append("start") }
            Callback(prefix: "inc:") { _, _ in order.append("inc") }
            Callback("inc:1") { _ in order.append("inc:1") }
            Updates(\.callbackQuery) { _ in order.append("any query") }
        } fallback: { _ in
            order.append("fallback")
        }
        try await router.handle(Sample.update("/start", command: 0..<6))
        try await router.handle(Sample.press("inc:1"))
        try await router.handle(Sample.press("other"))
        #expect(order.all == ["any text", "inc", "any query"])
    }

    @Test func anUpdateNoRouteTakesGoesToTheFallbackOrIsIgnored() async throws {
        let order = Order()
        let reaction: Update = try Update(json: [
            "update_id": 3,
            "message_reaction_2031": ["chat": ["id": 1001, "type": "private"]],
        ])
        let withFallback = Router(bot: Sample.bot) {
            Command("start") { _, _ in order.append("start") }
        } fallback: { update in
            order.append("fallback \(update.kind)")
        }
        let without = Router(bot: Sample.bot) {
            Command("start") { _, _ in order.append("start") }
        }
        #expect(try await withFallback.handle(reaction) == true)
        #expect(try await without.handle(reaction) == false)
        #expect(try await without.handle(Sample.update("/start")) == true)
        #expect(order.all == ["fallback message_reaction_2031", "start"])
    }

    @Test func anErrorOfARouteComesOutOfHandleAndNoOtherRouteRuns() async throws {
        struct Declined: Error {}
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Command("pay") { _, _ in throw Declined() }
            Command("pay") { _, _ in order.append("second") }
        } fallback: { _ in
            order.append("fallback")
        }
        await #expect(throws: Declined.self) { try await router.handle(Sample.update("/pay 5")) }
        let failingFallback = Router(bot: Sample.bot) {
        } fallback: { _ in
            throw Declined()
        }
        await #expect(throws: Declined.self) { try await failingFallback.handle(Sample.update("hi")) }
        #expect(order.all.isEmpty)
    }

    /// The host hands a chat's next update over once `handle` returns: a route's work must
    /// be done by then, not go on in a task of its own.
    @Test func aRouteHasFinishedWhenHandleReturns() async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            Text(/./) { message, _ in
                try await Task.sleep(for: .milliseconds(20))
                order.append(message.text ?? "")
            }
        }
        for text in ["one", "two", "three"] {
            try await router.handle(Sample.update(text))
            #expect(order.all.last == text)
        }
    }

    @Test(arguments: [false, true]) func routesAreChosenWithIfAndForWhenTheRouterIsMade(withAdmin: Bool) async throws {
        let order = Order()
        let router = Router(bot: Sample.bot) {
            for drink in ["tea", "coffee"] {
                Text(drink) { _ in order.append(drink) }
            }
            if withAdmin {
                Command("ban") { _, command in order.append("ban \(command.arguments)") }
            } else {
                Command("ban") { _, _ in order.append("refused") }
            }
            if withAdmin {
                Command("audit") { _, _ in order.append("audit") }
            }
        }
        for text in ["coffee", "tea", "/ban bob", "/audit"] {
            try await router.handle(Sample.update(text))
        }
        #expect(order.all == (withAdmin ? ["coffee", "tea", "ban bob", "audit"] : ["coffee", "tea", "refused"]))
    }

    @Test func aRoutedPluginAnswersOverHTTP() async throws {
        let harness = try await PluginHarness.start(Tally.self)
        #expect(try await harness.send("/START@Test_Bot 41").map(\.text) == ["Count: 41"])
        let counter = try #require(harness.sent.last)
        try await harness.press("inc:42", on: counter)
        #expect(harness.calls.suffix(2).map(\.method) == ["answerCallbackQuery", "editMessageText"])
        #expect(harness.sent.last?.text == "Count: 42")
        #expect(harness.sent.last?.messageID == counter.messageID)
        #expect(try await harness.send("/start@other_bot").map(\.text) == ["Try /start"])
        #expect(try await harness.send("hello Bob").map(\.text) == ["Hello, Bob!"])
        await harness.stop()
    }
}

/// Counts in its message: `/start N` shows N with a `+1` button whose data is the next
/// count, so that a press edits the message to it; `hello NAME` is greeted; other
/// messages get a hint.
struct Tally: BotPlugin {
    static let name = "tally"
    let routes: Router

    init(context: BotContext) async throws {
        let api = context.api
        routes = Router(bot: context.bot) {
            Command("start") { message, command in
                let count = Int(command.arguments) ?? 0
                try await api.sendMessage(
                    chatID: .id(message.chat.id), text: "Count: \(count)",
                    replyMarkup: .inlineKeyboard(Self.plusOne(after: count)))
            }
            Callback(prefix: "inc:") { query, rest in
                try await api.answerCallbackQuery(callbackQueryID: query.id)
                guard let count = Int(rest), let chat = query.message?.chat, let messageID = query.message?.messageID else {
                    return
                }
                try await api.editMessageText(
                    chatID: .id(chat.id), messageID: messageID, text: "Count: \(count)", replyMarkup: Self.plusOne(after: count))
            }
            Text(/^hello (\w+)$/) { message, match in
                try await api.sendMessage(chatID: .id(message.chat.id), text: "Hello, \(match.1)!")
            }
        } fallback: { update in
            guard let chat = update.message?.chat else { return }
            try await api.sendMessage(chatID: .id(chat.id), text: "Try /start")
        }
    }

    func handle(_ update: Update) async throws { try await routes.handle(update) }

    private static func plusOne(after count: Int) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup(inlineKeyboard: [[.callback("+1", data: "inc:\(count + 1)")]])
    }
}
