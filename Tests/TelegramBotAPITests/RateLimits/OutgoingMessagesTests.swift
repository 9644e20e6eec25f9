import TelegramBotAPI
import Testing

/// What a call counts for under rate limits, read from the spec and its parameters.
@Suite struct OutgoingMessagesTests {
    @Test(
        arguments: [
            ("sendMessage", ["chat_id": 42, "text": "hi"], OutgoingMessages(chat: .id(42), count: 1)),
            ("sendPhoto", ["chat_id": 42, "photo": "file-id"], OutgoingMessages(chat: .id(42), count: 1)),
            ("editMessageText", ["chat_id": 42, "message_id": 7, "text": "hi"], OutgoingMessages(chat: .id(42), count: 1)),
            ("copyMessage", ["chat_id": 42, "from_chat_id": 1, "message_id": 7], OutgoingMessages(chat: .id(42), count: 1)),
            (
                "forwardMessage", ["chat_id": "-100", "from_chat_id": 1, "message_id": 7],
                OutgoingMessages(chat: .id(-100), count: 1)
            ),
            (
                "sendMediaGroup", ["chat_id": 42, "media": [["type": "photo"], ["type": "photo"], ["type": "video"]]],
                OutgoingMessages(chat: .id(42), count: 3)
            ),
            (
                "forwardMessages", ["chat_id": "@News", "from_chat_id": 1, "message_ids": [1, 2]],
                OutgoingMessages(chat: .username("@news"), count: 2)
            ),
            ("sendChatAction", ["chat_id": 42, "action": "typing"], OutgoingMessages(chat: .id(42), count: 0)),
            ("getChat", ["chat_id": 42], OutgoingMessages(chat: .id(42), count: 0)),
            ("banChatMember", ["chat_id": -100, "user_id": 7], OutgoingMessages(chat: .id(-100), count: 0)),
            ("editMessageText", ["inline_message_id": "abc", "text": "hi"], OutgoingMessages.none),
            ("answerCallbackQuery", ["callback_query_id": "1"], OutgoingMessages.none),
            ("sendTelepathy", ["chat_id": 42], OutgoingMessages(chat: .id(42), count: 1)),
        ] as [(String, JSONValue, OutgoingMessages)])
    func callsCountTheMessagesTheySend(method: String, parameters: JSONValue, expected: OutgoingMessages) throws {
        guard case .object(let fields) = parameters else { throw JSONValueShapeError() }
        #expect(OutgoingMessages(method: method, parameters: fields) == expected)
    }

    /// Read from the spec: each method that names a chat and answers with what it sent.
    @Test func theSendsAndEditsOfTheSpecCount() {
        let counted = BotAPIMethod.all.filter { method in
            (method.required + method.optional).contains("chat_id")
                && OutgoingMessages(method: method.name, parameters: ["chat_id": 42]).count > 0
        }
        #expect(
            Set(counted.map(\.name)) == [
                "copyMessage", "copyMessages", "editMessageCaption", "editMessageChecklist", "editMessageLiveLocation",
                "editMessageMedia", "editMessageReplyMarkup", "editMessageText", "forwardMessage", "forwardMessages",
                "sendAnimation", "sendAudio", "sendChecklist", "sendContact", "sendDice", "sendDocument", "sendGame",
                "sendInvoice", "sendLivePhoto", "sendLocation", "sendMediaGroup", "sendMessage", "sendPaidMedia", "sendPhoto",
                "sendPoll", "sendRichMessage", "sendSticker", "sendVenue", "sendVideo", "sendVideoNote", "sendVoice",
                "setGameScore", "stopMessageLiveLocation",
            ])
    }

    @Test func groupsAreNegativeIdsAndUsernames() {
        #expect(OutgoingMessages(chat: .id(-1001234), count: 1).isGroup)
        #expect(OutgoingMessages(chat: .username("@news"), count: 1).isGroup)
        #expect(!OutgoingMessages(chat: .id(42), count: 1).isGroup)
        #expect(!OutgoingMessages.none.isGroup)
    }

    private struct JSONValueShapeError: Error {}
}
