import BotHostKit
import TelegramBotAPI

/// Why a bot stopped for good, in words an operator can act on. Each failure is named
/// here once; logs, `/health` and the exit status all read it from here.
///
/// Indirect, so that a ``BotRuntime/Outcome`` is a pointer wide (it was 33 bytes): the async
/// frames that every bot keeps for its whole life hold several, with their copies and
/// temporaries; `BotRuntime.run`'s frame went from 720 to 432 bytes.
indirect enum BotFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Telegram answered 401 or 404: the token is wrong or was revoked.
    case tokenRejected(BotAPIError)
    /// A webhook is set and `delete_webhook: false` forbids deleting it.
    case webhookInTheWay
    /// The retry policy gave up after this many retries; the last error.
    case gaveUp(retries: Int, String)
    /// The plugin's `init(context:)` threw.
    case pluginDidNotStart(plugin: String, String)
    /// The bot's lock stopped being ours and cannot be taken again.
    case lockLost(LockLossReason)
    /// The bot's update journal cannot be opened (a damaged file, a foreign schema).
    case journalUnusable(JournalError)
    /// The bot's worker process crashed more often than `isolation.restart` allows.
    case crashLoop(crashes: Int, period: Duration)
    /// The bot failed in its worker process, which logged why: its summary and description.
    case failedInWorker(summary: String, String)

    /// Whether the failure was logged where it happened: in a worker process.
    var isLoggedElsewhere: Bool {
        if case .failedInWorker = self { return true }
        return false
    }

    /// Whether the loss of the bot's lock can have brought the failure about: what the
    /// lock's database or the next holder breaks, the journal (the database held it too)
    /// or polls (answered 409 until the retry policy gave up), here or in a worker.
    var mayFollowLockLoss: Bool {
        switch self {
        case .gaveUp, .journalUnusable: true
        case .failedInWorker(let summary, _): summary == Summary.gaveUp || summary == Summary.journalUnusable
        default: false
        }
    }

    /// The summaries that a worker's failure is known by here.
    private enum Summary {
        static let gaveUp = "gave up retrying"
        static let journalUnusable = "journal unusable"
    }

    /// Why, in a few words, after `failed: ` in `bothost ctl bots` and on the dashboard.
    var summary: String {
        switch self {
        case .tokenRejected: "token rejected"
        case .webhookInTheWay: "webhook in the way"
        case .gaveUp: Summary.gaveUp
        case .pluginDidNotStart: "plugin did not start"
        case .lockLost: "lock lost"
        case .journalUnusable: Summary.journalUnusable
        case .crashLoop: "crash loop"
        case .failedInWorker(let summary, _): summary
        }
    }

    var description: String {
        switch self {
        case .tokenRejected(let error): "the token was rejected (\(error)); check it with @BotFather"
        case .webhookInTheWay: "a webhook is set, so getUpdates cannot poll; delete it or set delete_webhook: true"
        case .gaveUp(let retries, let error): "gave up after \(retries) retries: \(error)"
        case .pluginDidNotStart(let plugin, let error): "plugin '\(plugin)' did not start: \(error)"
        case .lockLost(let reason): "lock lost: \(reason)"
        case .journalUnusable(let error): "\(error); nothing was fetched (Telegram keeps the updates)"
        case .crashLoop(let crashes, let period):
            "crash loop: its worker process crashed \(crashes) times within \(formatDuration(period)) (isolation.restart)"
        case .failedInWorker(_, let reason): reason
        }
    }
}
