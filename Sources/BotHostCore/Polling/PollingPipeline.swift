import BotHostKit
import Logging
import Synchronization
import TelegramBotAPI

/// One bot's long-polling loop: fetch, dispatch, back off, repeat.
///
/// Each bot has its own pipeline, API client, offset and backoff, so a bot in conflict,
/// rate-limited or failing never slows another. ``run()`` polls until its task is
/// cancelled (a stop) or the bot cannot go on; cancelling it aborts a pending long
/// poll at once. The updates already fetched are finished by ``drain(within:)`` and the
/// offset confirmed by ``confirmOffset()``.
final class PollingPipeline: Sendable {
    /// Why ``run()`` returned.
    enum End: Sendable, Equatable {
        /// Its task was cancelled: a stop.
        case stopped
        /// The bot cannot go on (token rejected, webhook in the way, retries used up).
        case failed(BotFailure)
    }

    /// How long the loop waits for running handlers before polling past them. Telegram
    /// re-sends unconfirmed updates at once, so polling while a handler runs returns
    /// immediately; waiting a little keeps a slow handler from turning the long poll
    /// into a busy loop, while other chats' new updates still arrive within this time.
    static let busyHandlerPollInterval = Duration.milliseconds(250)

    private let configuration: BotConfiguration
    private let api: BotAPIClient
    private let status: BotStatus
    /// The clock backoff waits on.
    private let clock: any Clock<Duration>
    private let random: @Sendable () -> Double
    private let logger: Logger
    private let dispatcher: UpdateDispatcher
    /// The last poll sent: its offset, when it was sent, and whether the server answered;
    /// `nil` after a poll that failed. The server confirms every update below a poll's
    /// offset as it receives the poll.
    private let lastPoll = Mutex<(offset: Int64?, sentAt: ContinuousClock.Instant, answered: Bool)?>(nil)

    init(
        configuration: BotConfiguration, api: BotAPIClient, status: BotStatus, clock: any Clock<Duration>,
        random: @escaping @Sendable () -> Double, logger: Logger, handler: @escaping @Sendable (Update) async throws -> Void
    ) {
        self.configuration = configuration
        self.api = api
        self.status = status
        self.clock = clock
        self.random = random
        self.logger = logger
        self.dispatcher = UpdateDispatcher(
            maxConcurrent: configuration.polling.maxConcurrentUpdates, handlerTimeout: configuration.handlerTimeout,
            handler: handler
        ) { [status, logger] update, result in
            status.handled(result)
            Self.log(result, of: update, logger: logger, timeout: configuration.handlerTimeout)
        }
    }

    /// Polls until cancelled or the bot cannot go on.
    func run() async -> End {
        var backoff = Backoff(policy: configuration.retry, random: random)
        var failures = RepeatedFailures()
        let polling = configuration.polling
        while !Task.isCancelled {
            await dispatcher.waitUntilIdle(atMost: Self.busyHandlerPollInterval)
            status.enter(.polling)
            do {
                let offset = dispatcher.confirmableOffset
                lastPoll.withLock { $0 = (offset, .now, false) }
                let updates = try await api.getUpdates(
                    offset: offset, limit: polling.limit, timeout: polling.timeout, allowedUpdates: polling.allowedUpdates)
                lastPoll.withLock { $0?.answered = true }
                if backoff.attempt > 0 { logger.info("polling again after \(backoff.attempt) failed attempts") }
                backoff.reset()
                failures.reset()
                let fresh = dispatcher.enqueue(updates)
                status.polled(newUpdates: fresh.count)
                for update in fresh {
                    guard let problem = update.decodingProblem else { continue }
                    logger.warning(
                        "update does not fit the Bot API model (\(problem)); the plugin gets it as raw JSON",
                        metadata: ["update_id": "\(update.updateID)", "kind": "\(update.kind)"])
                }
            } catch is CancellationError {
                return .stopped
            } catch {
                // A poll that failed may never have reached the server: it confirmed nothing.
                lastPoll.withLock { $0 = nil }
                let failure = error as? BotAPIError ?? .transport(api.token.redact(String(describing: error)))
                if let end = await recover(from: failure, backoff: &backoff, failures: &failures) { return end }
            }
        }
        return .stopped
    }

    /// Handles a failed poll: returns how the loop ends, or `nil` to poll again.
    private func recover(from error: BotAPIError, backoff: inout Backoff, failures: inout RepeatedFailures) async -> End? {
        switch error {
        case .unauthorized, .notFound:
            return .failed(.tokenRejected(error))
        case .conflict(.webhookActive, _):
            guard configuration.deleteWebhook else {
                return .failed(.webhookInTheWay)
            }
            do {
                try await api.deleteWebhook(dropPendingUpdates: false)
                logger.warning("a webhook was set while polling; deleted it")
                return nil
            } catch is CancellationError {
                return .stopped
            } catch {
                return await wait(
                    after: BotAPIError.transport("deleteWebhook failed: \(error)"), backoff: &backoff, failures: &failures)
            }
        case .rateLimited(let retryAfter, _):
            return await waitOut(error, retryAfter: retryAfter, failures: &failures)
        default:
            return await wait(after: error, backoff: &backoff, failures: &failures)
        }
    }

    /// Waits out a 429 on `getUpdates`: Telegram says exactly when to come back, so this
    /// is no failure and spends none of the retry budget, however long the wait (flood
    /// bans last hours). A stop ends the wait at once.
    private func waitOut(_ error: BotAPIError, retryAfter: Duration, failures: inout RepeatedFailures) async -> End? {
        status.rateLimited(error, retryAfter: retryAfter)
        if failures.shouldLog(error.description) {
            logger.warning("rate limited by Telegram: polling again in \(formatDuration(retryAfter))")
        }
        do {
            try await clock.sleep(for: retryAfter)
        } catch {
            return .stopped
        }
        status.rateLimitEnded()
        return nil
    }

    /// Backs off after `error` per the retry policy; `.failed` once it gives up.
    private func wait(after error: BotAPIError, backoff: inout Backoff, failures: inout RepeatedFailures) async -> End? {
        guard let delay = backoff.nextDelay() else {
            return .failed(.gaveUp(retries: backoff.attempt - 1, "\(error)"))
        }
        status.pollFailed(error, attempt: backoff.attempt, delay: delay)
        if failures.shouldLog(error.description) {
            let problem =
                if case .conflict = error { "conflict: another poller took this token" } else { "poll failed: \(error)" }
            logger.warning("\(problem) (attempt \(backoff.progress)), retrying in \(formatDuration(delay))")
        }
        status.enter(.backingOff)
        do {
            try await clock.sleep(for: delay)
        } catch {
            return .stopped
        }
        return nil
    }

    /// Waits for every fetched update to finish, at most `timeout`; past it, cancels the
    /// rest, which stay unconfirmed and come again after a restart. Returns whether all
    /// finished.
    @discardableResult
    func drain(within timeout: Duration) async -> Bool {
        await dispatcher.waitUntilIdle(atMost: timeout)
        let unfinished = dispatcher.unfinishedCount
        guard unfinished > 0 else { return true }
        dispatcher.abandon()
        logger.warning("drain timed out after \(formatDuration(timeout)); \(unfinished) updates will come again after a restart")
        return false
    }

    /// Tells Telegram which updates are done, so a restart does not receive them again.
    /// A failure is tried again, up to ``confirmTries`` times in all, so that one bad
    /// moment at shutdown does not send the finished updates again after a restart.
    func confirmOffset() async {
        guard let offset = dispatcher.confirmableOffset else { return }
        if let last = lastPoll.withLock({ $0 }), last.offset == offset,
            last.answered || ContinuousClock.now - last.sentAt >= Self.pollSurelyReceived
        {
            logger.info("offset confirmed by the last poll", metadata: ["offset": "\(offset)"])
            return
        }
        for attempt in 1...Self.confirmTries {
            do {
                _ = try await api.getUpdates(offset: offset, limit: 1, timeout: .zero)
                logger.info("offset confirmed", metadata: ["offset": "\(offset)"])
                return
            } catch {
                let last = attempt == Self.confirmTries
                logger.warning(
                    "could not confirm the offset (try \(attempt)/\(Self.confirmTries)): \(error)\(last ? "; the unconfirmed updates come again after a restart" : "")",
                    metadata: ["offset": "\(offset)"])
                guard !last, (try? await ContinuousClock().sleep(for: Self.confirmRetryDelay * attempt)) != nil else { return }
            }
        }
    }

    /// How long a poll has been on its way when the server has surely received it (and so
    /// confirmed below its offset), though it has not answered. Confirming again would repeat
    /// that offset, which Telegram answers with a `timeout` of at least 3 s.
    static let pollSurelyReceived = Duration.seconds(1)

    /// How often ``confirmOffset()`` tries, and the pause before the second try (it grows
    /// linearly): a few hundred milliseconds of the shutdown budget at most.
    static let confirmTries = 3
    static let confirmRetryDelay = Duration.milliseconds(100)

    private static func log(_ result: UpdateDispatcher.HandlerResult, of update: Update, logger: Logger, timeout: Duration) {
        switch result {
        case .handled:
            break
        case .failed(let error, _):
            logger.error("handler failed: \(error)", metadata: ["update_id": "\(update.updateID)"])
        case .timedOut:
            logger.error(
                "handler timed out after \(formatDuration(timeout)) and was cancelled",
                metadata: ["update_id": "\(update.updateID)"])
        }
    }
}
