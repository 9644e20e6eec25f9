import Foundation
import TelegramBotAPI
import Testing

/// Updates of every common kind, written from the spec with made-up ids and names, as
/// Telegram sends them (snake_case keys, optional fields left out).
let updateFixtures: [(kind: String, text: String)] = [
    (
        "message",
        #"{"update_id":700001,"message":{"message_id":11,"from":{"id":5550001,"is_bot":false,"first_name":"Ada","last_name":"Lind","username":"ada_l","language_code":"en"},"chat":{"id":5550001,"first_name":"Ada","last_name":"Lind","username":"ada_l","type":"private"},"date":1780000000,"text":"/start see https://example.com","entities":[{"offset":0,"length":6,"type":"bot_command"},{"offset":11,"length":19,"type":"url"}]}}"#
    ),
    (
        "message",
        #"{"update_id":700002,"message":{"message_id":12,"from":{"id":5550001,"is_bot":false,"first_name":"Ada"},"chat":{"id":5550001,"first_name":"Ada","type":"private"},"date":1780000010,"photo":[{"file_id":"AgACAgQAAxkBAAIBa1","file_unique_id":"AQADa1","file_size":1312,"width":90,"height":67},{"file_id":"AgACAgQAAxkBAAIBa2","file_unique_id":"AQADa2","file_size":51200,"width":1280,"height":960}],"caption":"the view","caption_entities":[{"offset":4,"length":4,"type":"bold"}]}}"#
    ),
    (
        "edited_message",
        #"{"update_id":700003,"edited_message":{"message_id":11,"from":{"id":5550001,"is_bot":false,"first_name":"Ada"},"chat":{"id":5550001,"first_name":"Ada","type":"private"},"date":1780000000,"edit_date":1780000100,"text":"/start (edited)"}}"#
    ),
    (
        "channel_post",
        #"{"update_id":700004,"channel_post":{"message_id":501,"sender_chat":{"id":-1001234500001,"title":"Example News","username":"example_news","type":"channel"},"chat":{"id":-1001234500001,"title":"Example News","username":"example_news","type":"channel"},"date":1780000200,"text":"Release 2.0 is out","author_signature":"Editor"}}"#
    ),
    (
        "callback_query",
        #"{"update_id":700005,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":5550002,"is_bot":false,"first_name":"Bo","username":"bo_b"},"message":{"message_id":77,"from":{"id":4242000001,"is_bot":true,"first_name":"Example Bot","username":"example_bot"},"chat":{"id":5550002,"first_name":"Bo","type":"private"},"date":1780000300,"text":"Continue?","reply_markup":{"inline_keyboard":[[{"text":"Yes","callback_data":"yes"},{"text":"No","callback_data":"no"}]]}},"chat_instance":"-8001234567890123456","data":"yes"}}"#
    ),
    (
        "inline_query",
        #"{"update_id":700006,"inline_query":{"id":"9283746501","from":{"id":5550003,"is_bot":false,"first_name":"Cy","language_code":"de"},"query":"weather berlin","offset":"","chat_type":"sender","location":{"latitude":52.52,"longitude":13.405}}}"#
    ),
    (
        "chosen_inline_result",
        #"{"update_id":700007,"chosen_inline_result":{"result_id":"berlin-today","from":{"id":5550003,"is_bot":false,"first_name":"Cy"},"query":"weather berlin","inline_message_id":"AgAAAN4XAQBkUXQ"}}"#
    ),
    (
        "my_chat_member",
        #"{"update_id":700008,"my_chat_member":{"chat":{"id":-1009876500002,"title":"Team Room","type":"supergroup","is_forum":true},"from":{"id":5550004,"is_bot":false,"first_name":"Di"},"date":1780000400,"old_chat_member":{"user":{"id":4242000001,"is_bot":true,"first_name":"Example Bot","username":"example_bot"},"status":"left"},"new_chat_member":{"user":{"id":4242000001,"is_bot":true,"first_name":"Example Bot","username":"example_bot"},"status":"administrator","can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,"can_manage_video_chats":false,"can_restrict_members":true,"can_promote_members":false,"can_change_info":false,"can_invite_users":true,"can_post_stories":false,"can_edit_stories":false,"can_delete_stories":false}}}"#
    ),
    (
        "chat_member",
        #"{"update_id":700009,"chat_member":{"chat":{"id":-1009876500002,"title":"Team Room","type":"supergroup"},"from":{"id":5550004,"is_bot":false,"first_name":"Di"},"date":1780000500,"old_chat_member":{"user":{"id":5550005,"is_bot":false,"first_name":"Ed"},"status":"member"},"new_chat_member":{"user":{"id":5550005,"is_bot":false,"first_name":"Ed"},"status":"kicked","until_date":0},"invite_link":{"invite_link":"https://t.me/+AbCdEf012345","creator":{"id":5550004,"is_bot":false,"first_name":"Di"},"creates_join_request":false,"is_primary":true,"is_revoked":false}}}"#
    ),
    (
        "chat_join_request",
        #"{"update_id":700010,"chat_join_request":{"chat":{"id":-1009876500003,"title":"Readers","type":"supergroup"},"from":{"id":5550006,"is_bot":false,"first_name":"Flo"},"user_chat_id":5550006,"date":1780000600,"bio":"reads a lot"}}"#
    ),
    (
        "message_reaction",
        #"{"update_id":700011,"message_reaction":{"chat":{"id":-1009876500002,"title":"Team Room","type":"supergroup"},"message_id":88,"user":{"id":5550005,"is_bot":false,"first_name":"Ed"},"date":1780000700,"old_reaction":[],"new_reaction":[{"type":"emoji","emoji":"👍"},{"type":"custom_emoji","custom_emoji_id":"5368324170671202286"}]}}"#
    ),
    (
        "poll",
        #"{"update_id":700012,"poll":{"id":"5904000000000000001","question":"Lunch?","options":[{"persistent_id":"a","text":"Pizza","voter_count":3},{"persistent_id":"b","text":"Salad","voter_count":1}],"total_voter_count":4,"is_closed":false,"is_anonymous":true,"type":"regular","allows_multiple_answers":false,"allows_revoting":true,"members_only":false}}"#
    ),
    (
        "poll_answer",
        #"{"update_id":700013,"poll_answer":{"poll_id":"5904000000000000001","user":{"id":5550001,"is_bot":false,"first_name":"Ada"},"option_ids":[0],"option_persistent_ids":["a"]}}"#
    ),
    (
        "business_message",
        #"{"update_id":700014,"business_message":{"message_id":9001,"from":{"id":5550007,"is_bot":false,"first_name":"Gus"},"chat":{"id":5550007,"first_name":"Gus","type":"private"},"date":1780000800,"business_connection_id":"bc-0001","text":"Are you open on Sunday?"}}"#
    ),
    (
        "pre_checkout_query",
        #"{"update_id":700015,"pre_checkout_query":{"id":"pcq-000123","from":{"id":5550008,"is_bot":false,"first_name":"Hal"},"currency":"EUR","total_amount":1250,"invoice_payload":"order-42","shipping_option_id":"dhl","order_info":{"name":"Hal Example","email":"hal@example.com"}}}"#
    ),
    (
        "edited_channel_post",
        #"{"update_id":700016,"edited_channel_post":{"message_id":501,"chat":{"id":-1001234500001,"title":"Example News","type":"channel"},"date":1780000200,"edit_date":1780000900,"text":"Release 2.0.1 is out","forward_origin":{"type":"channel","chat":{"id":-1001234500009,"title":"Upstream","type":"channel"},"message_id":7,"date":1780000100}}}"#
    ),
    (
        "message",
        #"{"update_id":700017,"message":{"message_id":13,"from":{"id":5550001,"is_bot":false,"first_name":"Ada"},"chat":{"id":-1009876500002,"title":"Team Room","type":"supergroup"},"date":1780001000,"document":{"file_id":"BQACAgQAAxkBAAIBb","file_unique_id":"AgADb","file_name":"report.pdf","mime_type":"application/pdf","file_size":4500000},"reply_to_message":{"message_id":12,"chat":{"id":-1009876500002,"title":"Team Room","type":"supergroup"},"date":1780000990,"text":"send the report"}}}"#
    ),
]

@Suite struct UpdateFixtureTests {
    @Test(arguments: updateFixtures.map(\.text))
    func decodesTypedAndRoundTrips(_ text: String) throws {
        let update = try Update(jsonText: Data(text.utf8))
        let parsed = try JSONValue(parsing: Data(text.utf8))
        #expect(update.decodingProblem == nil)
        #expect(update.unknownFields.isEmpty, "every kind here is typed")
        #expect(update.json == parsed, "encodes back to what came")
        #expect(update.raw == parsed)
        let reread = try Update(json: update.json)
        #expect(reread == update)
    }

    @Test func everyKindReadsTyped() throws {
        let updates = try updateFixtures.map { try Update(jsonText: Data($0.text.utf8)) }
        #expect(Set(updates.map(\.kind)).count >= 15)
        #expect(updates.map(\.kind) == updateFixtures.map(\.kind))
        let byKind = Dictionary(grouping: updates, by: \.kind)

        let text = try #require(byKind["message"]?[0].message)
        #expect(text.entities?.map(\.type) == ["bot_command", "url"])
        #expect(text.from?.username == "ada_l")
        let photo = try #require(byKind["message"]?[1].message)
        #expect(photo.photo?.last?.width == 1280)
        #expect(photo.captionEntities?.first?.type == "bold")
        let document = try #require(byKind["message"]?[2].message)
        #expect(document.document?.fileSize == 4_500_000)
        #expect(document.replyToMessage?.text == "send the report")
        #expect(byKind["edited_message"]?.first?.editedMessage?.editDate == 1_780_000_100)
        #expect(byKind["channel_post"]?.first?.channelPost?.senderChat?.username == "example_news")
        #expect(byKind["channel_post"]?.first?.chatID == -1_001_234_500_001)
        let origin = try #require(byKind["edited_channel_post"]?.first?.editedChannelPost?.forwardOrigin)
        guard case .channel(let channel) = origin else { Issue.record("\(origin)"); return }
        #expect(channel.messageID == 7)

        let callback = try #require(byKind["callback_query"]?.first?.callbackQuery)
        #expect(callback.data == "yes")
        #expect(callback.message?.message?.replyMarkup?.inlineKeyboard.first?.map(\.callbackData) == ["yes", "no"])
        #expect(byKind["callback_query"]?.first?.chatID == 5_550_002)
        #expect(byKind["inline_query"]?.first?.inlineQuery?.location?.latitude == 52.52)
        #expect(byKind["chosen_inline_result"]?.first?.chosenInlineResult?.inlineMessageID == "AgAAAN4XAQBkUXQ")

        let mine = try #require(byKind["my_chat_member"]?.first?.myChatMember)
        guard case .administrator(let admin) = mine.newChatMember, case .left = mine.oldChatMember else {
            Issue.record("\(mine)")
            return
        }
        #expect(admin.canRestrictMembers)
        let member = try #require(byKind["chat_member"]?.first?.chatMember)
        guard case .banned(let banned) = member.newChatMember else { Issue.record("\(member)"); return }
        #expect(banned.untilDate == 0)
        #expect(member.inviteLink?.isPrimary == true)
        #expect(byKind["chat_member"]?.first?.chatID == -1_009_876_500_002)
        #expect(byKind["chat_join_request"]?.first?.chatJoinRequest?.userChatID == 5_550_006)

        let reaction = try #require(byKind["message_reaction"]?.first?.messageReaction)
        #expect(reaction.newReaction.count == 2)
        guard case .emoji(let emoji) = reaction.newReaction[0] else { Issue.record("\(reaction)"); return }
        #expect(emoji.emoji == "👍")

        #expect(byKind["poll"]?.first?.poll?.options.map(\.voterCount) == [3, 1])
        #expect(byKind["poll_answer"]?.first?.pollAnswer?.optionIDs == [0])
        #expect(byKind["business_message"]?.first?.businessMessage?.businessConnectionID == "bc-0001")
        let checkout = try #require(byKind["pre_checkout_query"]?.first?.preCheckoutQuery)
        #expect(checkout.totalAmount == 1250)
        #expect(checkout.orderInfo?.email == "hal@example.com")
    }

    @Test func unknownKindsAndFieldsSurviveTheRoundTrip() throws {
        let text =
            #"{"update_id":1,"story_reaction_2031":{"chat":{"id":3}},"message":{"message_id":1,"date":2,"chat":{"id":3,"type":"private","new_field":true},"new_field":[1]}}"#
        let update = try Update(jsonText: Data(text.utf8))
        #expect(update.unknownFields["story_reaction_2031"] == ["chat": ["id": 3]])
        #expect(update.message?.chat.unknownFields == ["new_field": true])
        #expect(update.json == (try JSONValue(parsing: Data(text.utf8))))
    }
}

@Suite struct OddUpdateEncodingTests {
    @Test func anUpdateThatDidNotFitIsWrittenAsItCame() throws {
        let text = #"{"update_id":4,"message":{"message_id":1,"date":2,"chat":"not an object"}}"#
        let update = try Update(jsonText: Data(text.utf8))
        #expect(update.decodingProblem != nil)
        #expect(update.message == nil)
        #expect(update.json == (try JSONValue(parsing: Data(text.utf8))))
    }
}
