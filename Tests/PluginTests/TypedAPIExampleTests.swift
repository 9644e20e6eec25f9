import BotHostKit
import BotHostTesting
import Foundation
import Testing

// The plugins of README.md's "Writing a plugin", as written there: an inline keyboard
// whose presses are answered, and a photo upload.

/// `/menu` offers coffee or tea; a press is answered and the question edited.
struct Menu: BotPlugin {
    static let name = "menu"
    let context: BotContext

    init(context: BotContext) async throws { self.context = context }

    func handle(_ update: Update) async throws {
        if let message = update.message, message.text == "/menu" {
            try await context.api.sendMessage(
                chatID: .id(message.chat.id), text: "Coffee or tea?",
                replyMarkup: .inline([[.callback("Coffee", data: "coffee"), .callback("Tea", data: "tea")]]))
        } else if let query = update.callbackQuery, let choice = query.data {
            try await context.api.answerCallbackQuery(callbackQueryID: query.id, text: "One \(choice), coming up")
            if let chat = query.message?.chat, let messageID = query.message?.messageID {
                try await context.api.editMessageText(chatID: .id(chat.id), messageID: messageID, text: "You chose \(choice).")
            }
        }
    }
}

/// `/chart` answers with a photo, uploaded from memory (a path streams from disk).
struct Chart: BotPlugin {
    static let name = "chart"
    let context: BotContext

    init(context: BotContext) async throws { self.context = context }

    func handle(_ update: Update) async throws {
        guard let message = update.message, message.text == "/chart" else { return }
        let png = Data(repeating: 0x89, count: 2048)  // made-up bytes: the emulator does not look
        try await context.api.sendPhoto(
            chatID: .id(message.chat.id), photo: .bytes(png, fileName: "chart.png", contentType: "image/png"),
            caption: "Today's chart")
    }
}

@Suite struct TypedAPIExampleTests {
    @Test func aMenuPressIsAnsweredAndTheQuestionEdited() async throws {
        let harness = try await PluginHarness.start(Menu.self)
        try await harness.send("/menu")
        let question = try #require(harness.sent.last)
        let keyboard = harness.calls.last?.parameter("reply_markup", as: ReplyMarkup.self)
        guard case .inlineKeyboard(let markup)? = keyboard else {
            Issue.record("no inline keyboard: \(String(describing: keyboard))")
            return
        }
        #expect(markup.inlineKeyboard.flatMap { $0 }.map(\.callbackData) == ["coffee", "tea"])

        try await harness.press("tea", on: question)
        #expect(harness.calls.map(\.method) == ["sendMessage", "answerCallbackQuery", "editMessageText"])
        #expect(harness.calls[1].parameter("text", as: String.self) == "One tea, coming up")
        #expect(harness.sent.last?.text == "You chose tea.")
        #expect(harness.sent.last?.messageID == question.messageID)
        await harness.stop()
    }

    @Test func aPhotoGoesAsAnUpload() async throws {
        let harness = try await PluginHarness.start(Chart.self)
        try await harness.send("/chart")
        let call = try #require(harness.calls.last)
        #expect(call.method == "sendPhoto")
        #expect(call.files.map(\.size) == [2048])
        #expect(call.files.first?.contentType == "image/png")
        #expect(call.message?.caption == "Today's chart")
        #expect(call.message?.photo?.first?.fileSize == 2048)
        await harness.stop()
    }
}
