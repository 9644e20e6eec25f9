import BotHostKit
import Foundation

/// Counts presses of a button, per chat: the bot that BotHostKit's cookbook grows step by
/// step (echo, a command, an inline keyboard, its callback, per-chat state, a scheduled
/// job, a shutdown hook), plus a photo.
public struct Counter: BotPlugin {
    public static let name = "counter"

    public struct Settings: DefaultedSettings {
        public var reminder = SettingDuration(.seconds(3600))
        public init() {}
    }

    private let routes: Router

    public init(context: BotContext) async throws {
        let settings = try context.settings.decode(Settings.self)
        let (api, state, scheduler) = (context.api, context.state, context.scheduler)
        let keyboard = InlineKeyboardMarkup(inlineKeyboard: [[.callback("Press", data: "press")]])
        routes = Router(bot: context.bot) {
            Command("start") { message, _ in
                try await api.sendMessage(
                    chatID: .id(message.chat.id), text: "Presses: 0", replyMarkup: .inlineKeyboard(keyboard))
            }
            Callback("press") { query in
                guard let chat = query.message?.chat, let messageID = query.message?.messageID else { return }
                let key = StateKey.chat(chat.id, "presses")
                let presses = (try await state.value(Int.self, for: key) ?? 0) + 1
                try await state.set(presses, for: key, ttl: .seconds(30 * 86_400))
                try await api.answerCallbackQuery(callbackQueryID: query.id, text: "Counted")
                try await api.editMessageText(
                    chatID: .id(chat.id), messageID: messageID, text: "Presses: \(presses)", replyMarkup: keyboard)
            }
            Command("remind") { message, _ in
                scheduler.after(settings.reminder.duration, name: "reminder") {
                    try await api.sendMessage(chatID: .id(message.chat.id), text: "Time to press again")
                }
            }
            Command("photo") { message, _ in
                let pixel = Data(base64Encoded: "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=")!
                try await api.sendPhoto(
                    chatID: .id(message.chat.id), photo: .bytes(pixel, fileName: "pixel.gif"), caption: "One pixel")
            }
            Text(/.+/) { message, match in  // a text, or a photo's caption
                try await api.sendMessage(chatID: .id(message.chat.id), text: String(match.0))
            }
        }
        try context.shutdown.register("counter") { context.logger.info("counter stopped") }
    }

    public func handle(_ update: Update) async throws {
        try await routes.handle(update)
    }
}
