import Logging
import TelegramBotAPI

/// Everything a plugin gets from the host for one bot.
public struct BotContext: Sendable {
    /// The bot's name in the manifest, such as `support`.
    public let botName: String
    /// The bot itself, as `getMe` answered.
    public let bot: User
    /// The bot's API client. Outgoing calls wait for the bot's rate limits (handlers'
    /// replies before scheduled jobs' calls) and, answered 429, wait and retry on their own.
    public let api: BotAPIClient
    /// A logger whose lines carry `bot=NAME`.
    public let logger: Logger
    /// The manifest's `settings:` for this bot; decode with ``PluginSettings/decode(_:)``.
    public let settings: PluginSettings
    /// Cleanup to run when the bot stops, last-registered-first.
    public let shutdown: ShutdownHooks
    /// Timed jobs that stop with the bot.
    public let scheduler: Scheduler
    /// The bot's state changes and conflicts.
    public let events: BotEvents
    /// Conversation state (per chat, per user, per bot) that survives restarts: see
    /// ``StateStore``.
    public let state: StateStore

    package init(
        botName: String, bot: User, api: BotAPIClient, logger: Logger, settings: PluginSettings, shutdown: ShutdownHooks,
        scheduler: Scheduler, events: BotEvents, state: StateStore
    ) {
        self.botName = botName
        self.bot = bot
        self.api = api
        self.logger = logger
        self.settings = settings
        self.shutdown = shutdown
        self.scheduler = scheduler
        self.events = events
        self.state = state
    }
}
