import BotHostKit
import Logging
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
        case failed(String)
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
        let polling = configuration.polling
        while !Task.isCancelled {
            await dispatcher.waitUntilIdle(atMost: Self.busyHandlerPollInterval)
            status.enter(.polling)
            do {
                let updates = try await api.getUpdates(
                    offset: dispatcher.confirmableOffset, limit: polling.limit, timeout: polling.timeout,
                    allowedUpdates: polling.allowedUpdates)
                backoff.reset()
                status.polled(newUpdates: dispatcher.enqueue(updates))
            } catch is CancellationError {
                return .stopped
            } catch {
                let failure = error as? BotAPIError ?? .transport(api.token.redact(String(describing: error)))
                if let end = await recover(from: failure, backoff: &backoff) { return end }
            }
        }
        return .stopped
    }

    /// Handles a failed poll: returns how the loop ends, or `nil` to poll again.
    private func recover(from error: BotAPIError, backoff: inout Backoff) async -> End? {
        switch error {
        case .unauthorized, .notFound:
            return .failed("the token was rejected (\(error)); check it with @BotFather")
        case .conflict(.webhookActive, _):
            guard configuration.deleteWebhook else {
                return .failed("a webhook is set, so getUpdates cannot poll; delete it or set delete_webhook: true")
            }
            do {
                try await api.deleteWebhook(dropPendingUpdates: false)
                logger.warning("a webhook was set while polling; deleted it")
                return nil
            } catch is CancellationError {
                return .stopped
            } catch {
                return await wait(after: BotAPIError.transport("deleteWebhook failed: \(error)"), backoff: &backoff)
            }
        default:
            return await wait(after: error, backoff: &backoff)
        }
    }

    /// Backs off after `error` per the retry policy; `.failed` once it gives up.
    private func wait(after error: BotAPIError, backoff: inout Backoff) async -> End? {
        var minimum = Duration.zero
        if case .rateLimited(let retryAfter, _) = error { minimum = retryAfter }
        guard let delay = backoff.nextDelay(atLeast: minimum) else {
            return .failed("gave up after \(backoff.attempt - 1) retries: \(error)")
        }
        status.pollFailed(error, attempt: backoff.attempt, delay: delay)
        let retrying = "(attempt \(backoff.progress)), retrying in \(formatDuration(delay))"
        switch error {
        case .conflict:
            logger.warning("conflict: another poller took this token \(retrying)")
        case .rateLimited(let retryAfter, _):
            logger.warning("rate limited: retry after \(formatDuration(retryAfter)) \(retrying)")
        default:
            logger.warning("poll failed: \(error) \(retrying)")
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
    func confirmOffset() async {
        guard let offset = dispatcher.confirmableOffset else { return }
        do {
            _ = try await api.getUpdates(offset: offset, limit: 1, timeout: .zero)
            logger.info("offset confirmed", metadata: ["offset": "\(offset)"])
        } catch {
            logger.warning("could not confirm the offset: \(error)", metadata: ["offset": "\(offset)"])
        }
    }

    private static func log(_ result: UpdateDispatcher.HandlerResult, of update: Update, logger: Logger, timeout: Duration) {
        switch result {
        case .handled:
            break
        case .failed(let error, _):
            logger.error("handler failed: \(error)", metadata: ["update_id": "\(update.updateID)"])
        case .timedOut:
            logger.error(
                "handler timed out after \(formatDuration(timeout)) and was cancelled", metadata: ["update_id": "\(update.updateID)"])
        }
    }
}
