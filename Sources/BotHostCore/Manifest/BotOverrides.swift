import BotHostKit
import TelegramBotAPI

enum BotKey: String, ManifestKey {
    case name
    case token
    case tokenEnv = "token_env"
    case tokenFile = "token_file"
    case plugin
    case apiURL = "api_url"
    case retry
    case polling
    case handlerTimeout = "handler_timeout"
    case sendRetries = "send_retries"
    case deleteWebhook = "delete_webhook"
    case maxAttempts = "max_attempts"
    case isolated
    case ingress
    case limits
    case settings

    static let tokenSources: [BotKey] = [.token, .tokenEnv, .tokenFile]
    /// Keys that name one bot, and so cannot stand in `defaults:`.
    static let perBotOnly: [BotKey] = [.name] + tokenSources
}

enum RetryKey: String, ManifestKey {
    case maxRetries = "max_retries"
    case initialDelay = "initial_delay"
    case maxDelay = "max_delay"
    case backoffFactor = "backoff_factor"
    case jitter
}

enum LimitsKey: String, ManifestKey {
    case perBot = "per_bot"
    case perChat = "per_chat"
    case perGroup = "per_group"
    case maxWait = "max_wait"
}

enum PollingKey: String, ManifestKey {
    case timeout
    case limit
    case allowedUpdates = "allowed_updates"
    case maxConcurrentUpdates = "max_concurrent_updates"
}

/// The keys that a bot and `defaults:` share, as written: `nil` where a key is absent.
///
/// A bot starts from the built-in defaults; then `defaults:` applies, then the bot's own
/// keys. Inside `retry:`, `polling:` and `limits:` this goes key by key, so a bot's
/// `retry: { initial_delay: 1s }` keeps the other `retry` keys of `defaults:`.
/// `settings:` is replaced whole: only the plugin knows how its settings combine.
struct BotOverrides {
    /// As written; an unregistered name has been reported already.
    var plugin: String?
    var apiURL: APIEndpoint?
    var retry = RetryOverrides()
    var polling = PollingOverrides()
    var handlerTimeout: Duration?
    var sendRetries: Int?
    var deleteWebhook: Bool?
    var maxAttempts: Int?
    var isolated: Bool?
    var ingress: IngressMode?
    var limits = LimitsOverrides()
    var settings: PluginSettings?

    func apply(to bot: inout BotConfiguration) {
        if let plugin { bot.plugin = plugin }
        if let apiURL { bot.apiURL = apiURL }
        retry.apply(to: &bot.retry)
        polling.apply(to: &bot.polling)
        if let handlerTimeout { bot.handlerTimeout = handlerTimeout }
        if let sendRetries { bot.sendRetries = sendRetries }
        if let deleteWebhook { bot.deleteWebhook = deleteWebhook }
        if let maxAttempts { bot.maxAttempts = maxAttempts }
        if let isolated { bot.isolated = isolated }
        if let ingress { bot.ingress = ingress }
        limits.apply(to: &bot)
        if let settings { bot.settings = settings }
    }
}

struct RetryOverrides {
    /// `.some(nil)` is `max_retries: unlimited`.
    var maxRetries: Int??
    var initialDelay: Duration?
    var maxDelay: Duration?
    var backoffFactor: Double?
    var jitter: Double?

    func apply(to policy: inout RetryPolicy) {
        if let maxRetries { policy.maxRetries = maxRetries }
        if let initialDelay { policy.initialDelay = initialDelay }
        if let maxDelay { policy.maxDelay = maxDelay }
        if let backoffFactor { policy.backoffFactor = backoffFactor }
        if let jitter { policy.jitter = jitter }
    }
}

struct PollingOverrides {
    var timeout: Duration?
    var limit: Int?
    var allowedUpdates: [String]?
    var maxConcurrentUpdates: Int?

    func apply(to polling: inout PollingSettings) {
        if let timeout { polling.timeout = timeout }
        if let limit { polling.limit = limit }
        if let allowedUpdates { polling.allowedUpdates = allowedUpdates }
        if let maxConcurrentUpdates { polling.maxConcurrentUpdates = maxConcurrentUpdates }
    }
}

/// `limits:` as written; `limits: off` is every limit off.
struct LimitsOverrides {
    /// `.some(nil)` is `off`.
    var perBot: RateLimit??
    var perChat: RateLimit??
    var perGroup: RateLimit??
    var maxWait: Duration?

    static let off = LimitsOverrides(perBot: .some(nil), perChat: .some(nil), perGroup: .some(nil))

    func apply(to bot: inout BotConfiguration) {
        if let perBot { bot.limits.perBot = perBot }
        if let perChat { bot.limits.perChat = perChat }
        if let perGroup { bot.limits.perGroup = perGroup }
        if let maxWait { bot.maxLimitWait = maxWait }
    }
}
