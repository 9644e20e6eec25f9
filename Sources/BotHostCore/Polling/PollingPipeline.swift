import BotHostKit
import Foundation
import Logging
import Synchronization
import TelegramBotAPI

/// One bot's long-polling loop: fetch, journal, dispatch, back off, repeat.
///
/// Each bot has its own pipeline, API client, journal, offset and backoff, so a bot in
/// conflict, rate-limited or failing never slows another. A fetched batch is committed
/// to the bot's ``UpdateJournal`` before the next `getUpdates` confirms it to Telegram;
/// the dispatcher then takes it from there, so a slow chat never holds back the next
/// poll. ``run()`` polls until its task is cancelled (a stop) or the bot cannot go on;
/// cancelling it aborts a pending long poll at once. The updates already fetched are
/// finished by ``drain(within:)`` and the offset confirmed by ``confirmOffset()``.
final class PollingPipeline: Sendable {
    /// Why ``run()`` returned: `.stopped` when its task was cancelled (a stop), `.failed`
    /// when the bot cannot go on (token rejected, webhook in the way, retries used up).
    typealias End = BotRuntime.Outcome

    /// The most updates a bot holds unfinished (in its journal, its entries' numbers in
    /// memory) before it stops fetching more; Telegram keeps the rest meanwhile.
    static let backlogLimit = 100_000

    /// How long finished updates stay in the journal (Telegram's own retention), and how
    /// often the journal is pruned and the bot's expired state purged.
    static let retention = Duration.seconds(24 * 3600)
    static let pruneInterval = Duration.seconds(3600)

    let configuration: BotConfiguration
    let api: BotAPIClient
    let status: BotStatus
    let journal: any UpdateJournal
    /// The clock backoff waits on.
    let clock: any Clock<Duration>
    /// Where the journal's housekeeping passes are scheduled.
    let housekeeping: RecurringChecks
    /// When the journal was last pruned.
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)
    /// Where a webhook bot's deliveries find its ``WebhookIntake``.
    let inbox: WebhookInbox
    /// Where a webhook bot's minutely `getWebhookInfo` is scheduled.
    let webhookChecks: RecurringChecks
    let random: @Sendable () -> Double
    let logger: Logger
    let dispatcher: UpdateDispatcher
    /// Shared by the process's bots: this bot tells it when it has caught up.
    let suspects: SuspectGate
    /// Whether the operator paused the bot: no poll is sent meanwhile.
    let pause: PauseSwitch
    /// The `offset` for the next `getUpdates`: one past the last update journaled.
    let nextOffset: Mutex<Int64?>
    /// The last poll sent: its offset, when it was sent, and whether the server answered;
    /// `nil` after a poll that failed. The server confirms every update below a poll's
    /// offset as it receives the poll.
    private let lastPoll = Mutex<(offset: Int64?, sentAt: ContinuousClock.Instant, answered: Bool)?>(nil)

    /// A pipeline that goes on from `recovery`, what the bot's journal held when opened.
    init(
        configuration: BotConfiguration, api: BotAPIClient, status: BotStatus, journal: any UpdateJournal,
        recovery: JournalRecovery, suspects: SuspectGate, pause: PauseSwitch, clock: any Clock<Duration>,
        housekeeping: RecurringChecks, random: @escaping @Sendable () -> Double,
        inbox: WebhookInbox, webhookChecks: RecurringChecks, logger: Logger,
        handler: @escaping @Sendable (Update) async throws -> Void
    ) {
        self.configuration = configuration
        self.inbox = inbox
        self.webhookChecks = webhookChecks
        self.pause = pause
        self.api = api
        self.status = status
        self.journal = journal
        self.clock = clock
        self.housekeeping = housekeeping
        self.random = random
        self.logger = logger
        self.suspects = suspects
        self.nextOffset = Mutex(recovery.nextOffset)
        // Which of the dispatcher's journal failures (a try that cannot be recorded) to log.
        let journalFailures = SharedRepeatedFailures()
        self.dispatcher = UpdateDispatcher(
            bot: configuration.name, journal: journal, suspects: suspects,
            maxConcurrent: configuration.polling.maxConcurrentUpdates,
            maxAttempts: configuration.maxAttempts, handlerTimeout: configuration.handlerTimeout, handler: handler,
            onResult: { [status, logger] entry, result in
                status.handled(result)
                Self.log(result, of: entry, logger: logger, timeout: configuration.handlerTimeout)
            },
            onJournalFailure: { [status, logger, journalFailures] error in
                status.failed(error.description)
                status.enter(.journalUnavailable)
                if journalFailures.shouldLog(error.description) { logger.error("\(error); trying again") }
            })
    }

    /// Polls (or, with `ingress: webhook`, takes deliveries) until cancelled or the bot
    /// cannot go on; first hands the journal's unfinished updates to the plugin again.
    /// The journal is kept meanwhile (``keepJournal()``): at the process's next
    /// housekeeping tick, beside the first poll, then at every turn it gives the bot.
    func run(resuming unfinished: [JournalEntry]) async -> End {
        await resume(unfinished)
        let lock = configuration.lockID
        housekeeping.add(lock) { await self.keepJournal() }
        housekeeping.checkSoon(lock)
        let end: End
        switch configuration.ingress {
        case .polling: end = await poll()
        case .webhook: end = await receive()
        }
        await housekeeping.remove(lock)
        return end
    }

    /// Tries the journal's unfinished updates again; those whose tries ran out (the process
    /// ended during each) are set aside.
    private func resume(_ unfinished: [JournalEntry]) async {
        var again: [JournalEntry] = []
        for entry in unfinished {
            guard entry.attempts >= configuration.maxAttempts else {
                again.append(entry)
                continue
            }
            let reason = "the process ended during each of its \(entry.attempts) tries"
            do {
                try await journal.setAside(entry.sequence, reason: reason)
            } catch {
                logger.error("\(error); update \(entry.updateID) stays unfinished")
                continue
            }
            Self.log(.setAside(reason: reason), of: entry, logger: logger, timeout: configuration.handlerTimeout)
            status.handled(.setAside(reason: reason))
        }
        guard !again.isEmpty else { return }
        // Those with a try begun were running when the process died: one of them may have
        // killed it. Each is tried alone, first (each is the first of its chat), so that only
        // that one is charged if it does so again.
        let suspects = again.filter { $0.attempts > 0 }
        logger.info(
            "trying again \(again.count) updates that the last run did not finish (\(suspects.count) of them alone first)")
        dispatcher.enqueue(suspects, isolated: true)
        dispatcher.enqueue(again.filter { $0.attempts == 0 })
    }

    /// The polling loop. The bot has caught up (``SuspectGate``) once what its first poll
    /// brought is handled, or, when that poll waits, once its journal's leftovers are.
    private func poll() async -> End {
        var backoff = Backoff(policy: configuration.retry, random: random)
        var failures = RepeatedFailures()
        var caughtUp = false
        let polling = configuration.polling
        while !Task.isCancelled {
            await dispatcher.waitUntil(unfinishedAtMost: Self.backlogLimit - polling.limit)
            if pause.isPaused {
                status.enter(.paused)
                await pause.waitUntilResumed()
                continue
            }
            status.enter(.polling)
            do {
                let offset = nextOffset.withLock { $0 }
                let sentAt = ContinuousClock.now
                lastPoll.withLock { $0 = (offset, sentAt, false) }
                if !caughtUp { reportCaughtUpIfThePollWaits(sentAt: sentAt) }
                guard
                    let updates = try await unlessPaused({ interruption in
                        try await self.api.getUpdates(
                            offset: offset, limit: polling.limit, timeout: polling.timeout,
                            allowedUpdates: polling.allowedUpdates, interruptedBy: interruption)
                    })
                else {
                    // Paused during the poll, which ended unanswered: whatever it would have
                    // brought stays unconfirmed, and Telegram keeps it.
                    lastPoll.withLock { $0 = nil }
                    continue
                }
                answered(backoff: &backoff, failures: &failures)
                guard let next = updates.last.map({ $0.updateID + 1 }) else {
                    status.polled(newUpdates: 0)
                    if !caughtUp { caughtUp = true; reportCaughtUp() }
                    continue
                }
                noteRestart(in: updates, after: offset)
                guard let entries = await commit(updates, nextOffset: next) else { return .stopped }
                status.polled(newUpdates: entries.count)
                logReceived(updates)
                dispatcher.enqueue(entries)
                if !caughtUp { caughtUp = true; reportCaughtUp() }
            } catch is CancellationError {
                return .stopped
            } catch {
                if let end = await recover(from: failed(error), backoff: &backoff, failures: &failures) { return end }
            }
        }
        return .stopped
    }

    /// Notes a poll that was answered: the failures before it are over. Apart from
    /// ``poll()``, as the helpers below are, to keep that frame small.
    @inline(never)
    private func answered(backoff: inout Backoff, failures: inout RepeatedFailures) {
        lastPoll.withLock { $0?.answered = true }
        if backoff.attempt > 0 { logger.info("polling again after \(backoff.attempt) failed attempts") }
        backoff.reset()
        failures.reset()
    }

    /// Reports this bot caught up (``reportCaughtUp()``) if the poll sent at `sentAt` is
    /// still unanswered after ``pollWaitingAfter``: Telegram answers at once when updates
    /// wait, so a poll that waits finds none.
    @inline(never)
    private func reportCaughtUpIfThePollWaits(sentAt: ContinuousClock.Instant) {
        Task {
            try? await Task.sleep(for: Self.pollWaitingAfter)
            if lastPoll.withLock({ $0?.sentAt == sentAt && $0?.answered == false }) { reportCaughtUp() }
        }
    }

    /// When a poll still unanswered counts as waiting for updates.
    static let pollWaitingAfter = Duration.milliseconds(250)

    /// Tells the process's ``SuspectGate`` that this bot caught up once what it has
    /// queued so far (the journal's leftovers, what it fetched) is handled.
    @inline(never)
    func reportCaughtUp() {
        let queued = dispatcher.queuedCount
        Task { [dispatcher, suspects, configuration] in
            await dispatcher.waitUntil(finishedAtLeast: queued)
            suspects.caughtUp(configuration.name)
        }
    }

    /// Notes a poll that failed, which may never have reached the server (it confirmed
    /// nothing), and says why as a ``BotAPIError``.
    @inline(never)
    private func failed(_ error: any Error) -> BotAPIError {
        lastPoll.withLock { $0 = nil }
        return error as? BotAPIError ?? .transport(api.token.redact(String(describing: error)))
    }

    /// Logs a restart of Telegram's `update_id` sequence that `updates`, fetched from
    /// `offset`, show. Apart from ``poll()``, as ``logReceived(_:)`` is: an `Update` held
    /// in an async function's frame takes about 900 bytes of every idle bot's memory.
    @inline(never)
    private func noteRestart(in updates: [Update], after offset: Int64?) {
        guard let offset, let restart = updates.first(where: { $0.updateID < offset }) else { return }
        logger.warning(
            "Telegram restarted this bot's update_id sequence (update \(restart.updateID) after offset \(offset)); handling the new updates"
        )
    }

    /// Logs each of `updates` at trace level, and those that do not fit the Bot API model
    /// as warnings.
    @inline(never)
    private func logReceived(_ updates: [Update]) {
        for update in updates where logger.logLevel <= .trace {
            logger.trace(
                "update received", metadata: ["update_id": .stringConvertible(update.updateID), "kind": "\(update.kind)"])
        }
        for update in updates {
            guard let problem = update.decodingProblem else { continue }
            logger.warning(
                "update does not fit the Bot API model (\(problem)); the plugin gets it as raw JSON",
                metadata: ["update_id": .stringConvertible(update.updateID), "kind": "\(update.kind)"])
        }
    }

    /// Runs `poll` unless the bot is paused first: a pause ends a pending long poll at once
    /// (`nil`), so that no `getUpdates` waits while the bot is paused.
    ///
    /// The pause ends the poll through a ``CallInterruption``, in the loop's own task (which
    /// only a stop cancels), where a task of its own for the pause to cancel cost a task and
    /// a hop per poll.
    private func unlessPaused(_ poll: (CallInterruption) async throws -> [Update]) async throws -> [Update]? {
        let interruption = CallInterruption()
        guard let registration = pause.whenPaused({ interruption.interrupt() }) else { return nil }
        defer { pause.cancel(registration) }
        do {
            return try await poll(interruption)
        } catch is CancellationError where !Task.isCancelled && interruption.isInterrupted {
            return nil
        }
    }

    /// Commits a fetched batch to the journal, trying again while the journal cannot write
    /// (polling stays paused meanwhile: the batch is not confirmed, so Telegram keeps it).
    /// `nil` when a stop came first.
    private func commit(_ updates: [Update], nextOffset next: Int64) async -> [JournalEntry]? {
        var failures = RepeatedFailures()
        while !Task.isCancelled {
            do {
                let entries = try await journal.append(updates, nextOffset: next)
                nextOffset.withLock { $0 = next }
                if failures.hasFailed { logger.info("the journal takes updates again; polling goes on") }
                return entries
            } catch {
                // A stop that cancelled the write: nothing was kept, Telegram keeps the batch.
                if Task.isCancelled { return nil }
                status.failed(error.description)
                status.enter(.journalUnavailable)
                if failures.shouldLog(error.description) {
                    logger.error("\(error); polling is paused, trying again in \(formatDuration(Self.journalRetryDelay))")
                }
                // Real time, whatever the backoff clock: it waits for a real resource.
                guard (try? await ContinuousClock().sleep(for: Self.journalRetryDelay)) != nil else { return nil }
            }
        }
        return nil
    }

    /// How long polling stays paused after the journal could not take a batch.
    static let journalRetryDelay = Duration.seconds(5)

    /// One housekeeping pass: hands replayed dead letters to the dispatcher, prunes finished
    /// updates past their retention and purges expired state (hourly), keeps the journal's
    /// counts in the bot's status and closes the journal's connection once the bot is idle.
    private func keepJournal() async {
        do {
            let replays = try await journal.takeReplays()
            if !replays.isEmpty {
                logger.info("\(replays.count) dead letters handed back for another try")
                dispatcher.enqueue(replays)
            }
            let pruneDue = lastPrune.withLock { lastPrune in
                guard lastPrune.map({ .now - $0 >= Self.pruneInterval }) ?? true else { return false }
                lastPrune = .now
                return true
            }
            if pruneDue {
                let pruned = try await journal.prune(finishedBefore: Date().addingTimeInterval(-Self.retention.seconds))
                if pruned > 0 { logger.debug("pruned \(pruned) finished updates from the journal") }
                let purged = try await journal.state.purgeAllExpired(before: Date())
                if purged > 0 { logger.debug("purged \(purged) expired state values") }
            }
            status.journal(try await journal.statistics())
        } catch {
            // A stop cancels a pass under way (GRDB's calls throw then): nothing went wrong.
            if !Task.isCancelled { logger.warning("journal housekeeping: \(error)") }
        }
        await journal.releaseIfIdle()
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
    /// bans last hours). A stop or a pause ends the wait at once.
    private func waitOut(_ error: BotAPIError, retryAfter: Duration, failures: inout RepeatedFailures) async -> End? {
        status.rateLimited(error, retryAfter: retryAfter)
        if failures.shouldLog(error.description) {
            logger.warning("rate limited by Telegram: polling again in \(formatDuration(retryAfter))")
        }
        do {
            try await sleepUnlessPaused(for: retryAfter)
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
            try await sleepUnlessPaused(for: delay)
        } catch {
            return .stopped
        }
        return nil
    }

    /// Waits `duration` on the backoff clock, or until the operator pauses the bot: the
    /// polling loop then shows it paused at once, and polls once it is resumed.
    ///
    /// - Throws: `CancellationError` on a stop.
    private func sleepUnlessPaused(for duration: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.clock.sleep(for: duration) }
            group.addTask { await self.pause.waitUntilPaused() }
            defer { group.cancelAll() }
            try await group.next()
        }
        try Task.checkCancellation()
    }

    /// Waits for every journaled update to finish, at most `timeout`; past it, cancels the
    /// rest, which stay unfinished in the journal for the bot's next run. Then waits for
    /// the journal's marks to be written. Returns whether all finished.
    @discardableResult
    func drain(within timeout: Duration) async -> Bool {
        await dispatcher.waitUntilIdle(atMost: timeout)
        let unfinished = dispatcher.unfinishedCount
        if unfinished > 0 {
            for sequence in dispatcher.abandon() { journal.undoAttempt(sequence) }
        }
        do {
            try await journal.flush()
        } catch {
            logger.error("\(error); updates finished since the last write may be handled again")
        }
        guard unfinished > 0 else { return true }
        logger.warning(
            "drain timed out after \(formatDuration(timeout)); \(unfinished) updates stay in the journal for the next run")
        return false
    }

    /// Tells Telegram which updates are done, so a restart does not receive them again.
    /// A failure is tried again, up to ``confirmTries`` times in all, so that one bad
    /// moment at shutdown does not send the finished updates again after a restart.
    func confirmOffset() async {
        guard let offset = nextOffset.withLock({ $0 }) else { return }
        if let last = lastPoll.withLock({ $0 }), last.offset == offset,
            last.answered || ContinuousClock.now - last.sentAt >= Self.pollSurelyReceived
        {
            logger.info("offset confirmed by the last poll", metadata: ["offset": .stringConvertible(offset)])
            return
        }
        for attempt in 1...Self.confirmTries {
            do {
                _ = try await api.getUpdates(offset: offset, limit: 1, timeout: .zero)
                logger.info("offset confirmed", metadata: ["offset": .stringConvertible(offset)])
                return
            } catch {
                let last = attempt == Self.confirmTries
                logger.warning(
                    "could not confirm the offset (try \(attempt)/\(Self.confirmTries)): \(error)\(last ? "; the unconfirmed updates come again after a restart" : "")",
                    metadata: ["offset": .stringConvertible(offset)])
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

    private static func log(_ result: UpdateDispatcher.HandlerResult, of entry: JournalEntry, logger: Logger, timeout: Duration) {
        let metadata: Logger.Metadata = ["update_id": .stringConvertible(entry.updateID)]
        switch result {
        case .handled(let duration):
            logger.trace("update handled in \(formatDuration(duration))", metadata: metadata)
        case .failed(let error, _):
            logger.error("handler failed: \(error)", metadata: metadata)
        case .timedOut(let attempt, let willRetry):
            logger.error(
                "handler timed out after \(formatDuration(timeout)) and was cancelled (try \(attempt))\(willRetry ? "; trying again" : "")",
                metadata: metadata)
        case .setAside(let reason):
            logger.error("update set aside as a dead letter: \(reason)", metadata: metadata)
        }
    }
}
