import BotHostKit
import Foundation
import Logging
import Synchronization
import TelegramBotAPI

/// A webhook bot's pipeline: deliveries instead of polls, into the same journal and
/// dispatcher.
extension PollingPipeline {
    /// Takes deliveries (through the process's ``WebhookInbox``) until cancelled, and keeps
    /// what `getWebhookInfo` says in the bot's status.
    func receive() async -> End {
        // This task waits here for the bot's whole life, so its frame keeps only the
        // intake: the journal's reading, the registration and the first check run in child
        // tasks (``inChildTask(_:)``), whose memory goes with them.
        let intake = await inChildTask { await self.openIntake() }
        defer { close(intake) }
        // Deliveries reach the bot from now on: it has caught up once the journal's
        // leftovers are handled.
        reportCaughtUp()
        guard await inChildTask({ await self.registerWebhook() }) else { return .stopped }
        // The registration wrote to the journal after the first housekeeping pass, and a
        // pass closes a journal unused since the pass before: a pass now lets the next one
        // close an idle bot's journal, 30 s sooner (its open page cache is most of its memory).
        housekeeping.checkSoon(configuration.lockID)
        // The first check right away, after the registration's own calls: asked of the
        // schedule, every bot of a worker would ask in the same second.
        await inChildTask {
            self.showPause()
            await self.checkWebhook()
        }
        webhookChecks.add(configuration.lockID) { await self.checkWebhook() }
        await showPauses()
        await webhookChecks.remove(configuration.lockID)
        return .stopped
    }

    /// Where deliveries find the bot from now on, knowing the journal's latest update ids
    /// (so that a repeated delivery is answered without a second handling).
    private func openIntake() async -> WebhookIntake {
        let recent: [Int64]
        do {
            recent = try await journal.latestUpdateIDs(count: RecentUpdateIDs.capacity)
        } catch {
            logger.error("\(error); a repeated webhook delivery may be handled twice")
            recent = []
        }
        let intake = WebhookIntake(
            journal: journal, dispatcher: dispatcher, status: status, pause: pause, offset: nextOffset.withLock { $0 },
            recent: recent, logger: logger)
        inbox.register(intake, for: configuration.lockID)
        return intake
    }

    private func close(_ intake: WebhookIntake) {
        intake.close()
        inbox.remove(intake, for: configuration.lockID)
    }

    /// Where the bot's state keeps the ``WebhookSecret/fingerprint`` of the secret last given
    /// to `setWebhook`, which `getWebhookInfo` does not show: in the journal's database, so
    /// that a standby host taking the bot over sees it too.
    static let webhookSecretKey = StateKey.host("webhook_secret_fingerprint")

    /// Makes Telegram's webhook the one the manifest asks for: `setWebhook` only when
    /// `getWebhookInfo` shows another URL, `max_connections` or `allowed_updates`, or when
    /// the secret last set (``webhookSecretKey``) is not the token's: the token changed.
    /// A failure is retried per the bot's retry policy, its 429 after `retry_after`. `false`
    /// if a stop came first.
    private func registerWebhook() async -> Bool {
        guard let wanted = configuration.webhook else { return true }
        let secret = WebhookSecret(token: api.token)
        let fingerprint = "\"\(secret.fingerprint)\""
        var backoff = Backoff(policy: configuration.retry, random: random)
        while !Task.isCancelled {
            do {
                let info = try await api.getWebhookInfo()
                let allowed = configuration.polling.allowedUpdates
                let lastSecret = try? await journal.state.read(Self.webhookSecretKey, at: Date())
                if info.url == wanted.url, info.maxConnections == nil || info.maxConnections == wanted.maxConnections,
                    allowed == nil || info.allowedUpdates.map(Set.init) == allowed.map(Set.init), lastSecret == fingerprint
                {
                    logger.info("webhook already set as the manifest asks")
                } else {
                    _ = try await api.setWebhook(
                        url: wanted.url, maxConnections: wanted.maxConnections, allowedUpdates: allowed,
                        secretToken: secret.value)
                    logger.info("webhook set", metadata: ["url": "\(wanted.url)"])
                    do {
                        try await journal.state.write(fingerprint, for: Self.webhookSecretKey, expiringAt: nil)
                    } catch {
                        logger.warning("\(error); the next start sets the webhook again")
                    }
                }
                return true
            } catch is CancellationError {
                return false
            } catch {
                let delay: Duration
                if case .rateLimited(let retryAfter, _) = error as? BotAPIError {
                    delay = retryAfter
                } else {
                    delay = backoff.nextDelay() ?? configuration.retry.maxDelay
                }
                status.failed("setWebhook: \(error)")
                logger.warning("could not set the webhook: \(error); trying again in \(formatDuration(delay))")
                guard (try? await clock.sleep(for: delay)) != nil else { return false }
            }
        }
        return false
    }

    /// Keeps the bot's state `receiving` or `paused` as the operator flips it, until cancelled.
    private func showPauses() async {
        while !Task.isCancelled {
            if showPause() { await pause.waitUntilResumed() } else { await pause.waitUntilPaused() }
        }
    }

    /// Shows whether the bot is paused in its state; returns whether it is.
    @discardableResult
    private func showPause() -> Bool {
        let isPaused = pause.isPaused
        status.enter(isPaused ? .paused : .receiving)
        return isPaused
    }

    /// One `getWebhookInfo`, its answer kept in the bot's status (``PollingPipeline/webhookChecks``).
    private func checkWebhook() async {
        do {
            let info = try await api.getWebhookInfo()
            status.webhook(
                url: info.url, pendingUpdateCount: info.pendingUpdateCount, lastErrorMessage: info.lastErrorMessage,
                lastErrorDate: info.lastErrorDate)
        } catch is CancellationError {
            return
        } catch {
            logger.warning("getWebhookInfo failed: \(error)")
        }
    }
}
