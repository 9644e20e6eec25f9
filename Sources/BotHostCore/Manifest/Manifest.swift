package import BotHostKit
import Foundation
package import TelegramBotAPI

/// An operator's whole fleet: what `bots.yaml` says once loaded, resolved and validated.
///
/// Every value here is final: defaults are applied, tokens are read, durations parsed.
/// Loading lives in `Manifest+Loading.swift`; this file is only the model.
package struct Manifest: Sendable {
    /// The file the manifest was read from, as given on the command line.
    package var file: String
    /// The file's text, which worker processes are given to read the same manifest.
    package var text = ""
    package var apiURL: APIEndpoint
    package var lock: LockSettings
    /// Where the update journals live with the file lock backend (`state_dir`).
    package var stateDirectory: String
    package var onLocked: OnLocked
    /// The most bots this host polls at once; `nil` means no limit.
    package var maxBots: Int?
    package var sandbox: SandboxSettings
    package var shutdown: ShutdownSettings
    package var admin: AdminSettings?
    package var isolation: IsolationSettings
    /// The webhook listener and the bots' default ingress (`ingress:`).
    package var ingress = IngressSettings()
    package var bots: [BotConfiguration]
}

/// Where a bot's Bot API server is.
package enum APIEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A real Bot API server, such as `https://api.telegram.org`, without a trailing slash.
    case url(String)
    /// The embedded emulator with simulated users (`api_url: sandbox`).
    case sandbox

    package static let telegram = APIEndpoint.url("https://api.telegram.org")

    package var description: String {
        switch self {
        case .url(let url): url
        case .sandbox: "sandbox"
        }
    }
}

package enum LockSettings: Sendable, Hashable {
    /// Lock files in `directory` (see `FileTokenLock`).
    case file(directory: String)
    /// Session advisory locks on PostgreSQL.
    case postgres(url: String, passwordFile: String?)
}

/// What a host does when another process already polls a bot.
package enum OnLocked: String, Sendable, Hashable, CaseIterable {
    /// Exit with code 3, naming the bot and the holder.
    case fail
    /// Run the other bots; report this one as skipped.
    case skip
    /// Stand by and take over as soon as the holder goes.
    case wait
}

package struct SandboxSettings: Sendable, Hashable {
    package var users: Int = 3
    package var messagesPerMinute: Int = 20

    package init(users: Int = 3, messagesPerMinute: Int = 20) {
        self.users = users
        self.messagesPerMinute = messagesPerMinute
    }
}

package struct ShutdownSettings: Sendable, Hashable {
    /// The whole stop, from the signal to the exit.
    package var timeout: Duration = .seconds(20)
    /// Default time one shutdown hook may take.
    package var hookTimeout: Duration = .seconds(5)
    /// Time to finish the updates already fetched.
    package var drainTimeout: Duration = .seconds(10)

    package init(timeout: Duration = .seconds(20), hookTimeout: Duration = .seconds(5), drainTimeout: Duration = .seconds(10)) {
        self.timeout = timeout
        self.hookTimeout = hookTimeout
        self.drainTimeout = drainTimeout
    }
}

/// Where plugin code runs (`isolation:`).
package struct IsolationSettings: Sendable, Hashable {
    package enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Plugins run in supervised worker processes: a trap kills one worker, not the host.
        case process
        /// Every bot runs in the host process itself, as in stage one.
        case none
    }

    package var mode: Mode = .process
    /// Worker processes sharing the bots that are not `isolated`.
    package var workers: Int = IsolationSettings.defaultWorkers
    /// How many crashes of one worker within ``restartPeriod`` are restarted; one more
    /// fails the worker's bots (`restart: { intensity, period }`).
    package var restartIntensity: Int = 5
    package var restartPeriod: Duration = .seconds(60)

    /// The number of cores.
    package static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    package init(mode: Mode = .process, workers: Int = IsolationSettings.defaultWorkers) {
        self.mode = mode
        self.workers = workers
    }
}

package struct AdminSettings: Sendable, Hashable {
    package var host: String
    package var port: Int
    /// `token_file`, resolved against the manifest's directory.
    package var tokenFile: String?
    /// The token the control API's changes need; `nil` without a `token_file` (every change
    /// is then refused), or when the manifest was only checked (``SecretsPolicy/optional``).
    package var token: AdminToken?
    /// Why `token_file` could not be read on this machine, when the manifest was only
    /// checked (``SecretsPolicy/optional``): a note for `validate`, a problem for `run`.
    package var unavailableToken: ManifestProblem?

    package init(host: String, port: Int, tokenFile: String? = nil, token: AdminToken? = nil) {
        self.host = host
        self.port = port
        self.tokenFile = tokenFile
        self.token = token
    }
}

package struct PollingSettings: Sendable, Hashable {
    /// The long-poll `timeout` sent to `getUpdates` (0...50 s).
    package var timeout: Duration = .seconds(30)
    /// The `limit` sent to `getUpdates` (1...100).
    package var limit: Int = 100
    /// `allowed_updates`; `nil` leaves Telegram's own default.
    package var allowedUpdates: [String]? = nil
    /// How many updates of different chats one bot handles at once.
    package var maxConcurrentUpdates: Int = 64

    package init(
        timeout: Duration = .seconds(30), limit: Int = 100, allowedUpdates: [String]? = nil, maxConcurrentUpdates: Int = 64
    ) {
        self.timeout = timeout
        self.limit = limit
        self.allowedUpdates = allowedUpdates
        self.maxConcurrentUpdates = maxConcurrentUpdates
    }
}

/// One entry of `bots:` with `defaults:` applied.
package struct BotConfiguration: Sendable {
    package var name: String
    package var token: BotToken
    package var plugin: String
    package var apiURL: APIEndpoint
    package var retry: RetryPolicy
    package var polling: PollingSettings
    package var handlerTimeout: Duration
    package var sendRetries: Int
    package var deleteWebhook: Bool
    /// Tries of an update whose handler timed out or whose process died, before it is set
    /// aside as a dead letter.
    package var maxAttempts: Int
    /// Whether the bot gets a worker process of its own (`isolated: true`).
    package var isolated: Bool
    /// How its updates arrive: the host's `ingress.mode` unless the bot says otherwise.
    package var ingress: IngressMode = .polling
    /// What `setWebhook` asks for, for a bot with `ingress: webhook` (`nil` otherwise).
    package var webhook: WebhookRegistration?
    /// Its outgoing rate limits (`limits:`); ``RateLimits/off`` sends every call at once.
    package var limits: RateLimits
    /// The longest an outgoing call waits for ``limits``; `nil`: the ``handlerTimeout``.
    package var maxLimitWait: Duration?
    package var settings: PluginSettings
    /// Where the entry starts in the manifest.
    package var location: SourceLocation
    /// Why the token is not at hand, when the manifest was read with
    /// ``SecretsPolicy/optional``: ``token`` is then a stand-in and ``lockID`` means nothing.
    package var unavailableToken: ManifestProblem?

    package init(
        name: String, token: BotToken, plugin: String, apiURL: APIEndpoint = .telegram, retry: RetryPolicy = .init(),
        polling: PollingSettings = .init(), handlerTimeout: Duration = .seconds(60), sendRetries: Int = 3,
        deleteWebhook: Bool = true, maxAttempts: Int = 3, isolated: Bool = false, limits: RateLimits = .telegram,
        maxLimitWait: Duration? = nil, settings: PluginSettings = .init(), location: SourceLocation
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
        self.maxAttempts = maxAttempts
        self.isolated = isolated
        self.limits = limits
        self.maxLimitWait = maxLimitWait
        self.settings = settings
        self.location = location
    }

    /// Whether a reload may leave a running bot alone: everything that shapes how it
    /// polls and what its plugin sees is the same. (Where in the file it stands is not.)
    package func isSameDeployment(as other: BotConfiguration) -> Bool {
        token == other.token && plugin == other.plugin
            && apiURL == other.apiURL && retry == other.retry && polling == other.polling
            && handlerTimeout == other.handlerTimeout && sendRetries == other.sendRetries
            && deleteWebhook == other.deleteWebhook && maxAttempts == other.maxAttempts && isolated == other.isolated
            && ingress == other.ingress && webhook == other.webhook
            && limits == other.limits && maxLimitWait == other.maxLimitWait && settings.value == other.settings.value
    }

    /// The name of this bot's lock, derived from its bot id, never from the secret.
    package var lockID: LockID { LockID(botID: token.botID) }
}
