public import BotHostKit

/// `plugin: autoposter`: posts a message to a chat on a schedule.
///
/// ```yaml
/// settings: { chat_id: -1001234567890, text: "Daily reminder: stand-up at 10:00", every: 24h }
/// ```
/// It registers its job's cleanup as the `scheduler` shutdown hook, so a stop never
/// cuts a post in half and no post is sent after the bot stopped.
public struct AutoPoster: BotPlugin {
    public static let name = "autoposter"

    /// Every key is required.
    public struct Settings: Codable, Sendable {
        public var chatID: ChatID
        public var text: String
        public var every: SettingDuration

        enum CodingKeys: String, CodingKey {
            case chatID = "chat_id"
            case text, every
        }
    }

    public init(context: BotContext) async throws {
        let settings = try context.settings.decode(Settings.self)
        let scheduler = context.scheduler
        let job = scheduler.every(settings.every.duration, name: "autopost") {
            let posted = try await context.api.sendMessage(chatID: settings.chatID, text: settings.text)
            context.logger.info(
                "posted",
                metadata: ["chat": .stringConvertible(posted.chat.id), "message_id": .stringConvertible(posted.messageID)])
        }
        try context.shutdown.register("scheduler") { job.cancel() }
        context.logger.info("posting every \(formatDuration(settings.every.duration))")
    }

    public func handle(_ update: Update) async throws {}
}
