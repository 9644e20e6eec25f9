import BotHostKit
import Foundation
import Logging
import Synchronization
import TelegramBotAPI

/// What one bot is doing and has done: the single place its pipeline and runtime report
/// to, which keeps the snapshot (for `/health` and tests), the metrics, the state log
/// lines and the plugin's ``BotEvents`` in step.
final class BotStatus: Sendable {
    struct Snapshot: Sendable, Equatable, Codable {
        var state: BotState = .starting
        /// Failed attempts in a row.
        var retries = 0
        var lastError: String?
        /// When a rate-limited bot polls again.
        var resumesAt: Date?
        var updatesReceived = 0
        var updatesHandled = 0
        var handlerErrors = 0
        var conflicts = 0
        /// Answers 429 (Too Many Requests) to its polls and its outgoing calls.
        var rateLimited = 0
        /// Restarts asked for through the control API.
        var restarts = 0
        /// Why the bot failed, in a few words (``BotFailure/summary``): `token rejected`.
        var failure: String?
        /// The journal's counts, as last read.
        var journal: JournalStatistics?
        /// The worker process that runs the bot, under a supervisor.
        var workerPID: Int32?
        /// A webhook bot's webhook, as Telegram and the bot's deliveries show it.
        var webhook: WebhookHealth?
    }

    let name: String
    let events = BotEvents()
    private let snapshot = Mutex(Snapshot())
    /// Who waits in ``waitUntilEnded()``; `nil` once the bot has ended.
    private let endWaiters = Mutex<[CheckedContinuation<Void, Never>]?>([])
    private let logger: Logger
    let metrics: BotMetrics
    /// Called after every change (``HostEnvironment/onStatusChange``), and only then.
    private let onChange: (@Sendable (BotStatus) -> Void)?

    init(name: String, logger: Logger, metrics: BotMetrics, onChange: (@Sendable (BotStatus) -> Void)? = nil) {
        self.name = name
        self.logger = logger
        self.metrics = metrics
        self.onChange = onChange
        metrics.show(.starting)
    }

    /// Changes the snapshot, and says so if that changed it: a webhook bot's minutely
    /// `getWebhookInfo` and an idle journal's counts mostly read what was there already,
    /// and a worker would send the same status to its supervisor again.
    private func update(_ change: (inout Snapshot) -> Void) {
        let changed = snapshot.withLock { snapshot in
            let before = snapshot
            change(&snapshot)
            return snapshot != before
        }
        if changed { onChange?(self) }
    }

    var current: Snapshot { snapshot.withLock { $0 } }
    var state: BotState { current.state }

    /// Moves to `state`, logging the change once.
    func enter(_ state: BotState) {
        let changed = snapshot.withLock { snapshot in
            defer { snapshot.state = state }
            return snapshot.state != state
        }
        guard changed else { return }
        onChange?(self)
        metrics.show(state)
        logger.info("state changed", metadata: ["state": "\(state.rawValue)"])
        events.publish(.stateChanged(state))
        if state == .stopped || state == .failed {
            for waiter in endWaiters.withLock({ $0.take() }) ?? [] { waiter.resume() }
        }
    }

    /// Returns once the bot has stopped or failed for good.
    func waitUntilEnded() async {
        await withCheckedContinuation { continuation in
            let ended = endWaiters.withLock { waiters in
                waiters?.append(continuation)
                return waiters == nil
            }
            if ended { continuation.resume() }
        }
    }

    /// Shows what the bot's worker process reported: this is the supervisor's copy of a
    /// bot that runs elsewhere, and the worker logged the changes. An end stays `stopping`
    /// until the supervisor's own runtime has released the lock and ends the bot here.
    func mirror(_ reported: Snapshot) {
        var shown = reported
        if shown.state == .stopped || shown.state == .failed { shown.state = .stopping }
        snapshot.withLock { $0 = shown }
        metrics.show(shown.state)
    }

    func lockHeld(_ held: Bool) {
        metrics.set(.lockHeld, to: held ? 1 : 0)
    }

    /// A poll succeeded with `count` updates not seen before (Telegram sends unconfirmed
    /// ones again; they are not received twice).
    func polled(newUpdates count: Int) {
        metrics.increment(.polls)
        if count > 0 { metrics.increment(.updatesReceived, by: count) }
        update { snapshot in
            snapshot.retries = 0
            snapshot.resumesAt = nil
            snapshot.updatesReceived += count
        }
    }

    /// A webhook delivery was committed to the journal.
    func delivered() {
        metrics.increment(.updatesReceived)
        update { snapshot in
            snapshot.updatesReceived += 1
            snapshot.webhook = snapshot.webhook ?? WebhookHealth()
            snapshot.webhook?.deliveries += 1
        }
    }

    /// What `getWebhookInfo` said of the bot's webhook.
    func webhook(url: String, pendingUpdateCount: Int, lastErrorMessage: String?, lastErrorDate: Int64?) {
        metrics.set(.webhookPending, to: pendingUpdateCount)
        update { snapshot in
            var webhook = snapshot.webhook ?? WebhookHealth()
            webhook.url = url
            webhook.pendingUpdateCount = pendingUpdateCount
            webhook.lastErrorMessage = lastErrorMessage
            webhook.lastErrorDate = lastErrorDate
            snapshot.webhook = webhook
        }
    }

    /// The bot failed for good: `/health` shows why at length, the control API and the
    /// dashboard in a few words.
    func failedForGood(_ failure: BotFailure) {
        update { snapshot in
            snapshot.failure = failure.summary
            snapshot.lastError = failure.description
        }
    }

    /// The bot runs its stop sequence and starts again (the control API's restart).
    func restarting() {
        metrics.increment(.restarts)
        update { $0.restarts += 1 }
    }

    /// A poll failed; the bot waits `delay` before attempt `attempt`.
    func pollFailed(_ error: BotAPIError, attempt: Int, delay: Duration) {
        metrics.increment(.polls)
        metrics.increment(.retries)
        switch error {
        case .conflict:
            metrics.increment(.conflicts)
            events.publish(.conflict(attempt: attempt, delay: delay))
        case .rateLimited:
            metrics.increment(.rateLimited)
        default:
            break
        }
        update { snapshot in
            snapshot.retries = attempt
            snapshot.lastError = error.description
            switch error {
            case .conflict: snapshot.conflicts += 1
            case .rateLimited: snapshot.rateLimited += 1
            default: break
            }
        }
    }

    /// Telegram answered a poll with 429: the bot polls again after `retryAfter`.
    func rateLimited(_ error: BotAPIError, retryAfter: Duration) {
        metrics.increment(.polls)
        metrics.increment(.rateLimited)
        update { snapshot in
            snapshot.lastError = error.description
            snapshot.resumesAt = Date().addingTimeInterval(retryAfter.seconds)
            snapshot.rateLimited += 1
        }
        enter(.rateLimited)
    }

    /// The wait after a 429 is over: the bot polls again.
    func rateLimitEnded() {
        update { $0.resumesAt = nil }
    }

    /// Something went wrong that the operator should see in `/health`.
    func failed(_ description: String) {
        update { $0.lastError = description }
    }

    /// The journal's counts, read by its housekeeping.
    func journal(_ statistics: JournalStatistics) {
        metrics.set(.journalBacklog, to: statistics.unfinished)
        metrics.set(.journalDeadLetters, to: statistics.deadLetters)
        metrics.set(.journalFinished, to: statistics.finished)
        update { $0.journal = statistics }
    }

    /// An update's handler ended (finished, threw or timed out: each counts as handled).
    func handled(_ result: UpdateDispatcher.HandlerResult) {
        // An update is handled once: when its handler returns or throws, or when it is set
        // aside. Each try that fails (throws or times out) is a handler error.
        let (isHandled, isError): (Bool, Bool)
        switch result {
        case .handled(let duration):
            metrics.observe(.handlerDuration, duration)
            (isHandled, isError) = (true, false)
        case .failed(_, let duration):
            metrics.observe(.handlerDuration, duration)
            (isHandled, isError) = (true, true)
        case .timedOut:
            (isHandled, isError) = (false, true)
        case .setAside:
            metrics.increment(.deadLetters)
            (isHandled, isError) = (true, false)
        }
        if isHandled { metrics.increment(.updatesHandled) }
        if isError { metrics.increment(.handlerErrors) }
        update { snapshot in
            if isHandled { snapshot.updatesHandled += 1 }
            if isError { snapshot.handlerErrors += 1 }
        }
    }
}

/// The bot's client tells its status what its outgoing calls meet: the rate limiter's waits
/// and refusals go to the metrics; a 429 also counts in `/health`'s and `/bots`'
/// `rate_limited` (with the polls' 429s), since the client retries it after `retry_after`.
extension BotStatus: RateLimitObserver {
    func queueChanged(length: Int) { metrics.set(.sendQueue, to: length) }
    func callWaited(_ wait: Duration) { metrics.observe(.sendWait, wait) }
    func callRefused() { metrics.increment(.sendRefused) }
    func callRateLimited() {
        metrics.increment(.sendRateLimited)
        metrics.increment(.rateLimited)
        update { $0.rateLimited += 1 }
    }
}
