import BotHostKit
import TelegramBotAPI

/// An operator's whole fleet: what `bots.yaml` says once loaded, resolved and validated.
///
/// Every value here is final: defaults are applied, tokens are read, durations parsed.
/// Loading lives in `Manifest+Loading.swift`; this file is only the model.
public struct Manifest: Sendable {
    /// The file the manifest was read from, as given on the command line.
    public var file: String
    public var apiURL: APIEndpoint
    public var lock: LockSettings
    public var onLocked: OnLocked
    /// The most bots this host polls at once; `nil` means no limit.
    public var maxBots: Int?
    public var sandbox: SandboxSettings
    public var shutdown: ShutdownSettings
    public var admin: AdminSettings?
    public var bots: [BotConfiguration]
}

/// Where a bot's Bot API server is.
public enum APIEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A real Bot API server, such as `https://api.telegram.org`, without a trailing slash.
    case url(String)
    /// The embedded emulator with simulated users (`api_url: sandbox`).
    case sandbox

    public static let telegram = APIEndpoint.url("https://api.telegram.org")

    public var description: String {
        switch self {
        case .url(let url): url
        case .sandbox: "sandbox"
        }
    }
}

public enum LockSettings: Sendable, Hashable {
    /// Lock files in `directory` (see `FileTokenLock`).
    case file(directory: String)
    /// Session advisory locks on PostgreSQL.
    case postgres(url: String, passwordFile: String?)
}

/// What a host does when another process already polls a bot.
public enum OnLocked: String, Sendable, Hashable, CaseIterable {
    /// Exit with code 3, naming the bot and the holder.
    case fail
    /// Run the other bots; report this one as skipped.
    case skip
    /// Stand by and take over as soon as the holder goes.
    case wait
}

public struct SandboxSettings: Sendable, Hashable {
    public var users: Int = 3
    public var messagesPerMinute: Int = 20

    public init(users: Int = 3, messagesPerMinute: Int = 20) {
        self.users = users
        self.messagesPerMinute = messagesPerMinute
    }
}

public struct ShutdownSettings: Sendable, Hashable {
    /// The whole stop, from the signal to the exit.
    public var timeout: Duration = .seconds(20)
    /// Default time one shutdown hook may take.
    public var hookTimeout: Duration = .seconds(5)
    /// Time to finish the updates already fetched.
    public var drainTimeout: Duration = .seconds(10)

    public init(timeout: Duration = .seconds(20), hookTimeout: Duration = .seconds(5), drainTimeout: Duration = .seconds(10)) {
        self.timeout = timeout
        self.hookTimeout = hookTimeout
        self.drainTimeout = drainTimeout
    }
}

public struct AdminSettings: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

public struct PollingSettings: Sendable, Hashable {
    /// The long-poll `timeout` sent to `getUpdates` (0...50 s).
    public var timeout: Duration = .seconds(30)
    /// The `limit` sent to `getUpdates` (1...100).
    public var limit: Int = 100
    /// `allowed_updates`; `nil` leaves Telegram's own default.
    public var allowedUpdates: [String]? = nil
    /// How many updates of different chats one bot handles at once.
    public var maxConcurrentUpdates: Int = 64

    public init(timeout: Duration = .seconds(30), limit: Int = 100, allowedUpdates: [String]? = nil, maxConcurrentUpdates: Int = 64) {
        self.timeout = timeout
        self.limit = limit
        self.allowedUpdates = allowedUpdates
        self.maxConcurrentUpdates = maxConcurrentUpdates
    }
}

/// One entry of `bots:` with `defaults:` applied.
public struct BotConfiguration: Sendable {
    public var name: String
    public var token: BotToken
    public var plugin: String
    public var apiURL: APIEndpoint
    public var retry: RetryPolicy
    public var polling: PollingSettings
    public var handlerTimeout: Duration
    public var sendRetries: Int
    public var deleteWebhook: Bool
    public var settings: PluginSettings
    /// Where the entry starts in the manifest.
    public var location: SourceLocation

    public init(
        name: String, token: BotToken, plugin: String, apiURL: APIEndpoint = .telegram, retry: RetryPolicy = .init(),
        polling: PollingSettings = .init(), handlerTimeout: Duration = .seconds(60), sendRetries: Int = 3,
        deleteWebhook: Bool = true, settings: PluginSettings = .init(), location: SourceLocation
    ) {
        self.name = name
        self.token = token
        self.plugin = plugin
        self.apiURL = apiURL
        self.retry = retry
        self.polling = polling
        self.handlerTimeout = handlerTimeout
        self.sendRetries = sendRetries
        self.deleteWebhook = deleteWebhook
        self.settings = settings
        self.location = location
    }

    /// Whether a reload may leave a running bot alone: everything that shapes how it
    /// polls and what its plugin sees is the same. (Where in the file it stands is not.)
    public func isSameDeployment(as other: BotConfiguration) -> Bool {
        token == other.token && plugin == other.plugin
            && apiURL == other.apiURL && retry == other.retry && polling == other.polling
            && handlerTimeout == other.handlerTimeout && sendRetries == other.sendRetries
            && deleteWebhook == other.deleteWebhook && settings.value == other.settings.value
    }

    /// The name of this bot's lock, derived from its bot id, never from the secret.
    public var lockID: LockID { LockID(botID: token.botID) }
}
