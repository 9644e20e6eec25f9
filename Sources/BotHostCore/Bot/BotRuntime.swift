import BotHostKit
import Foundation
import Logging
import Synchronization
import TelegramBotAPI

/// One bot from lock to stop: the unit the host supervises.
///
/// ``run(lock:)`` takes the bot through DESIGN's sequence (lock, `getMe`, webhook
/// check, plugin, polling) and, once ``requestStop()`` is called or the bot fails, through
/// the stop sequence: drain, confirm the offset, run the bot's shutdown hooks, close
/// the API client, release the lock. ``requestRestart()`` runs the same stop sequence but
/// for the lock, which stays held, and starts the bot again; ``pause`` holds its polling.
/// Nothing in here touches another bot.
final class BotRuntime: Sendable {
    /// How a bot's run ended.
    enum Outcome: Sendable, Equatable {
        case stopped
        case failed(BotFailure)
    }

    let configuration: BotConfiguration
    let status: BotStatus
    private let plugin: any BotPlugin.Type
    private let apiURL: String
    /// The Bot API connections of the process, shared with its other bots.
    private let connections: BotAPIConnections
    private let journals: any JournalStorage
    /// Shared by the host's bots: see ``SuspectGate``.
    private let suspects: SuspectGate
    /// The worker processes, when the bot runs in one of them rather than here.
    let workers: WorkerPool?
    private let environment: HostEnvironment
    private let shutdownSettings: ShutdownSettings
    let logger: Logger
    /// Whether the operator paused the bot's polling.
    let pause: PauseSwitch
    /// Cancels whatever the bot is waiting on (a lock, a poll, a retry) when a stop or a
    /// restart comes.
    private let stopping = Mutex(Stopping())

    private struct Stopping {
        /// A stop for good.
        var requested = false
        /// A restart: the run ends as for a stop, and the bot starts again.
        var restarting = false
        var cancel: (@Sendable () -> Void)?

        /// Whether the current run of the bot is to end.
        var ending: Bool { requested || restarting }
    }

    init(
        configuration: BotConfiguration, plugin: any BotPlugin.Type, apiURL: String, connections: BotAPIConnections,
        journals: any JournalStorage, suspects: SuspectGate, workers: WorkerPool?, shutdown: ShutdownSettings,
        environment: HostEnvironment, metrics: BotMetrics, paused: Bool = false
    ) {
        self.workers = workers
        self.pause = PauseSwitch(paused: paused)
        self.configuration = configuration
        self.plugin = plugin
        self.apiURL = apiURL
        self.connections = connections
        self.journals = journals
        self.suspects = suspects
        self.shutdownSettings = shutdown
        self.environment = environment
        var logger = environment.logger
        logger[metadataKey: "bot"] = "\(configuration.name)"
        self.logger = logger
        self.status = BotStatus(
            name: configuration.name, logger: logger, metrics: metrics, onChange: environment.onStatusChange)
    }

    /// Whether the bot is to stop for good.
    var isStopRequested: Bool { stopping.withLock { $0.requested } }

    /// Whether the bot's current run is to end: a stop, or a restart.
    var isEnding: Bool { stopping.withLock { $0.ending } }

    /// Stops the bot: a pending poll, retry wait or lock wait ends at once.
    func requestStop() {
        let cancel = stopping.withLock { stopping in
            stopping.requested = true
            return stopping.cancel
        }
        cancel?()
    }

    /// Runs the bot's stop sequence (drain, offset, hooks, API client, but not the lock)
    /// and starts it again: what an operator asks for after changing what a plugin reads
    /// at start-up. Returns `false` when the bot is not running: it stands by, or it has
    /// stopped or failed (the fleet starts those afresh), or a stop came first.
    @discardableResult
    func requestRestart() -> Bool {
        guard ![.standby, .stopped, .failed].contains(status.state) else { return false }
        let cancel = stopping.withLock { stopping -> (@Sendable () -> Void)?? in
            guard !stopping.ending else { return nil }
            stopping.restarting = true
            return .some(stopping.cancel)
        }
        guard let cancel else { return false }
        cancel?()
        return true
    }

    /// Whether a restart was asked for, which is then under way.
    private func takeRestart() -> Bool {
        stopping.withLock { stopping in
            defer { stopping.restarting = false }
            return stopping.restarting && !stopping.requested
        }
    }

    /// Runs the bot until stopped or failed. `lock` is the bot's lock (and its slot) if the
    /// host already took it; otherwise the bot stands by until `claims` gives it one. The
    /// slot is given back with the lock. A lock lost with its database session stops the
    /// bot and sends it back to stand by.
    ///
    /// The bot's task keeps this function's async frame all its life, in a worker and in its
    /// supervisor: what is not a wait (logs, status) is in the synchronous functions below,
    /// whose locals live on the thread's stack instead (the frame was 3 KiB a bot).
    func run(lock: (any HeldTokenLock)?, claims: LockClaims) async -> Outcome {
        var given = lock
        while true {
            let held: any HeldTokenLock
            if let lock = given.take() {
                held = lock
            } else {
                status.enter(.standby)
                guard let taken = await standBy(claims) else { return ended(.stopped) }
                held = taken
                tookOver()
            }
            status.lockHeld(true)
            let ending: Ending
            if let workers {
                ending = await runInWorker(workers, holding: held)
            } else {
                ending = await runHoldingLock(held)
            }
            if restarts(after: ending) {
                given = held
                continue
            }
            await claims.release(held)
            if let outcome = released(held, after: ending) { return outcome }
        }
    }

    @inline(never)
    private func tookOver() {
        logger.info("lock taken over: this host now polls the bot")
    }

    /// Whether the bot starts again with the lock kept: a restart was asked for and its
    /// stop sequence ran.
    @inline(never)
    private func restarts(after ending: Ending) -> Bool {
        guard takeRestart(), ending == .outcome(.stopped) else { return false }
        logger.info("restarting: the stop sequence ran; starting again, the lock kept")
        status.restarting()
        return true
    }

    /// What the bot's end is, now that its lock was given back after `ending`; `nil` when
    /// it stands by to take the lock again.
    @inline(never)
    private func released(_ held: any HeldTokenLock, after ending: Ending) -> Outcome? {
        status.lockHeld(false)
        if !held.isDelegated { logger.info("lock released") }
        switch ending {
        case .lockLost(.takenAway):
            // A worker's bot: the supervisor lost the lock, and decides what comes next.
            return ended(.stopped)
        case .lockLost(let reason) where reason.canBeRetaken && !isStopRequested:
            logger.warning("standing by to take the lock again")
            return nil
        case .lockLost(let reason):
            return ended(isStopRequested ? .stopped : .failed(.lockLost(reason)))
        case .outcome(let outcome):
            return ended(outcome)
        }
    }

    /// Reports the bot's end: its state, and a failure's reason.
    @inline(never)
    private func ended(_ outcome: Outcome) -> Outcome {
        if case .failed(let failure) = outcome {
            status.failedForGood(failure)
            if !failure.isLoggedElsewhere { logger.error("bot failed: \(failure)") }
        }
        status.enter(outcome == .stopped ? .stopped : .failed)
        status.events.finish()
        return outcome
    }

    /// How a bot's time holding its lock ended.
    enum Ending: Equatable {
        case outcome(Outcome)
        case lockLost(LockLossReason)

        /// The end of a run that watched its lock and ended with `outcome`: the lock's loss,
        /// when one was noted and the outcome may have followed from it.
        ///
        /// A loss cancels the bot's polling, so the run ends stopped; and it may cause a
        /// failure (``BotFailure/mayFollowLockLoss``). The loss then decides whether the bot
        /// stands by to take its lock again. Other failures (a rejected token, a crash loop)
        /// stand.
        init(_ outcome: Outcome, loss: LockLossReason?) {
            switch (outcome, loss) {
            case (.stopped, let loss?): self = .lockLost(loss)
            case (.failed(let failure), let loss?) where failure.mayFollowLockLoss: self = .lockLost(loss)
            default: self = .outcome(outcome)
            }
        }
    }

    /// ``Ending/init(_:loss:)``, logging the failure that the loss stands for.
    func ending(_ outcome: Outcome, loss: LockLossReason?) -> Ending {
        let ending = Ending(outcome, loss: loss)
        if case .failed(let failure) = outcome, case .lockLost = ending {
            logger.warning("\(failure), after the lock was lost")
        }
        return ending
    }

    /// Waits until `claims` gives the bot its lock, or a stop is requested (`nil`).
    private func standBy(_ claims: LockClaims) async -> (any HeldTokenLock)? {
        var standby = LockClaims.Standby()
        while !isStopRequested {
            if let held = await claims.tryTakeOver(configuration, standby: &standby, logger: logger) { return held }
            guard await sleepUnlessStopped(environment.standbyRecheckInterval) else { return nil }
        }
        return nil
    }

    // Never inlined into ``run(lock:claims:)``: a bot's task keeps that frame all its life,
    // and a supervisor, whose bots run in workers, never calls this.
    @inline(never)
    private func runHoldingLock(_ held: any HeldTokenLock) async -> Ending {
        status.enter(.starting)
        // Start-up takes its turn among the process's bots (``HostEnvironment/starts``); a
        // stop cancels the wait for it, not the start, whose steps see the stop themselves
        // (a journal cancelled while it opens would look unusable). This task then waits for
        // the bot's whole life: start-up's deep calls (`getMe`, the plugin's `init`) run in a
        // child task, whose memory goes with it.
        let turn: ConcurrentCallLimit.Turn
        do {
            turn = try await cancellableOnStop {
                try await self.environment.starts.turn(holdingAtMost: HostEnvironment.startTurn)
            }
        } catch {
            // Stopped while it waited for its turn: the only error here.
            return .outcome(.stopped)
        }
        let opening = await inChildTask { await self.open(holding: held, turn: turn) }
        turn.end()
        ResidentSetTrimmer.shared.trimSoon([.heap, .filePages])
        let opened: Opened
        switch opening {
        case .opened(let success): opened = success
        case .journalUnusable(let error): return .outcome(.failed(.journalUnusable(error)))
        case .stopped: return .outcome(.stopped)
        }

        let ending: Ending
        switch opened.start {
        case .ready(let pipeline):
            let loss = LockLossNote()
            let end = await poll(with: pipeline, resuming: opened.unfinished, watching: held, noting: loss)
            status.enter(.stopping)
            await pipeline.drain(within: shutdownSettings.drainTimeout)
            // Confirming is a poll; without the lock it could end the new holder's poll with
            // a 409, so the lock is watched until here (a loss during the drain counts too).
            // The new holder gets the unconfirmed updates again instead.
            let lost = loss.end()
            ending = self.ending(end, loss: lost)
            if lost == nil { await pipeline.confirmOffset() }
        case .ended(let ended):
            status.enter(.stopping)
            ending = .outcome(ended)
        }
        // Scheduled jobs end before the hooks run, so no job uses what a hook closes.
        await opened.scheduler.cancelAll()
        await opened.hooks.run()
        try? await opened.api.shutdown()
        await opened.journal.close()
        return ending
    }

    /// What start-up made: the bot's journal and the updates it had left unfinished, its
    /// client, hooks and scheduler, and how start-up ended.
    private struct Opened: Sendable {
        let journal: any UpdateJournal
        let unfinished: [JournalEntry]
        let api: BotAPIClient
        let hooks: ShutdownHooks
        let scheduler: Scheduler
        let start: Start
    }

    /// How start-up's opening ended.
    private enum Opening: Sendable {
        case opened(Opened)
        case journalUnusable(JournalError)
        /// A stop came while the bot waited for its turn: nothing was opened.
        case stopped
    }

    /// Opens the bot's journal, then starts the bot (``start(api:hooks:scheduler:journal:recovery:turn:)``).
    private func open(holding held: any HeldTokenLock, turn: ConcurrentCallLimit.Turn) async -> Opening {
        if isEnding { return .stopped }
        let journal: any UpdateJournal
        let recovery: JournalRecovery
        do {
            journal = try await journals.journal(for: held)
        } catch {
            return .journalUnusable(error)
        }
        do {
            recovery = try await journal.open()
        } catch {
            await journal.close()
            return .journalUnusable(error)
        }
        var client = BotAPIClient.Configuration(
            baseURL: apiURL, maxConnections: configuration.polling.maxConcurrentUpdates + 2,
            sendRetries: configuration.sendRetries, clock: environment.clock, rateLimits: configuration.limits,
            maxRateLimitWait: configuration.maxLimitWait ?? configuration.handlerTimeout)
        client.rateLimitObserver = status
        let api = BotAPIClient(token: configuration.token, configuration: client, connections: connections, logger: logger)
        let hooks = ShutdownHooks(defaultTimeout: shutdownSettings.hookTimeout, logger: logger)
        let scheduler = Scheduler(clock: environment.clock, logger: logger)
        let start = await start(
            api: api, hooks: hooks, scheduler: scheduler, journal: journal, recovery: recovery, turn: turn)
        return .opened(
            Opened(
                journal: journal, unfinished: recovery.unfinished, api: api, hooks: hooks, scheduler: scheduler, start: start))
    }

    /// How start-up ended: a pipeline ready to poll, or the bot's outcome.
    private enum Start {
        case ready(PollingPipeline)
        case ended(Outcome)
    }

    /// `getMe`, the webhook check and the plugin; `.ended(.stopped)` if a stop came first.
    /// A `getMe` that fails ends the start's `turn` before the retry's wait, so that bots
    /// that cannot reach Telegram do not hold the others' starts back.
    private func start(
        api: BotAPIClient, hooks: ShutdownHooks, scheduler: Scheduler, journal: any UpdateJournal, recovery: JournalRecovery,
        turn: ConcurrentCallLimit.Turn
    ) async -> Start {
        var backoff = Backoff(policy: configuration.retry, random: environment.random)
        var failures = RepeatedFailures()
        var me: User?
        while me == nil {
            if isEnding { return .ended(.stopped) }
            do {
                me = try await cancellableOnStop { try await api.getMe() }
            } catch is CancellationError {
                return .ended(.stopped)
            } catch let error as BotAPIError where error.isTokenRejected {
                return .ended(.failed(.tokenRejected(error)))
            } catch {
                guard let delay = backoff.nextDelay() else {
                    return .ended(.failed(.gaveUp(retries: backoff.attempt - 1, "getMe: \(error)")))
                }
                if failures.shouldLog("\(error)") {
                    logger.warning("getMe failed: \(error) (attempt \(backoff.progress)), retrying in \(formatDuration(delay))")
                }
                status.failed("getMe: \(error)")
                turn.end()
                guard await sleepUnlessStopped(delay) else { return .ended(.stopped) }
            }
        }
        guard let me else { return .ended(.stopped) }
        logger.info("token accepted", metadata: ["username": "\(me.username ?? "?")"])

        do {
            let webhook = try await cancellableOnStop { try await api.getWebhookInfo() }
            // A webhook bot sets its webhook once it takes deliveries (``PollingPipeline/receive()``).
            if !webhook.url.isEmpty && configuration.ingress == .polling {
                guard configuration.deleteWebhook else {
                    return .ended(.failed(.webhookInTheWay))
                }
                try await cancellableOnStop { _ = try await api.deleteWebhook(dropPendingUpdates: false) }
                logger.info("deleted the webhook so that the bot can poll")
            }
        } catch is CancellationError {
            return .ended(.stopped)
        } catch {
            logger.warning("could not check for a webhook: \(error); polling will tell")
        }

        let context = BotContext(
            botName: configuration.name, bot: me, api: api, logger: logger, settings: configuration.settings,
            shutdown: hooks, scheduler: scheduler, events: status.events, state: StateStore(storage: journal.state))
        let instance: any BotPlugin
        do {
            instance = try await withTaskExecutorPreference(PluginExecutor.shared) { try await plugin.init(context: context) }
        } catch {
            return .ended(.failed(.pluginDidNotStart(plugin: plugin.name, "\(error)")))
        }
        return .ready(
            PollingPipeline(
                configuration: configuration, api: api, status: status, journal: journal, recovery: recovery,
                suspects: suspects, pause: pause,
                clock: environment.clock, housekeeping: environment.journalHousekeeping,
                random: environment.random, inbox: environment.webhookInbox,
                webhookChecks: environment.webhookChecks, logger: logger,
                handler: { update in try await Self.handle(update, with: instance) }))
    }

    /// Runs the plugin's handler, whose calls are replies to the bot's rate limits; a Bot
    /// API error it lets out names the call that failed.
    private static func handle(_ update: Update, with instance: any BotPlugin) async throws {
        let failedCalls = FailedCalls()
        do {
            try await FailedCalls.$current.withValue(failedCalls) {
                try await SendPriority.$current.withValue(.reply) { try await instance.handle(update) }
            }
        } catch let error as BotAPIError {
            guard let method = failedCalls.method(of: error) else { throw error }
            throw FailedCall(method: method, error: error)
        }
    }

    /// Polls until a stop, a failure, or the loss of the lock; first waits until the lock is
    /// safe to poll under (``HeldTokenLock/waitUntilSafeToPoll()``). A loss, noted in
    /// `loss` (which the caller ends), cancels the polling as a stop does.
    private func poll(
        with pipeline: PollingPipeline, resuming unfinished: [JournalEntry], watching held: any HeldTokenLock,
        noting loss: LockLossNote
    ) async -> PollingPipeline.End {
        // Awaited right here; a stop or the lock's loss cancels it.
        let polling = Task {
            guard (try? await held.waitUntilSafeToPoll()) != nil else { return PollingPipeline.End.stopped }
            return await pipeline.run(resuming: unfinished)
        }
        onStop { polling.cancel() }
        loss.watch(
            held.onLoss { [logger] reason in
                guard loss.note(reason) else { return }
                logger.error("lock lost: \(reason); stopping this bot's polling")
                polling.cancel()
            })
        return await polling.value
    }

    // MARK: - Stop-aware waiting

    /// Runs `operation` in a task that ``requestStop()`` cancels.
    private func cancellableOnStop<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        // Awaited right here; a stop cancels it.
        let task = Task { try await operation() }
        onStop { task.cancel() }
        return try await task.value
    }

    /// Runs `operation` in a task that ``requestStop()`` cancels.
    private func cancellableOnStop<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T {
        // Awaited right here; a stop cancels it.
        let task = Task { await operation() }
        onStop { task.cancel() }
        return await task.value
    }

    /// Makes `cancel` what the next ``requestStop()`` or ``requestRestart()`` calls; calls
    /// it now if one was already requested.
    func onStop(_ cancel: @escaping @Sendable () -> Void) {
        let alreadyRequested = stopping.withLock { stopping in
            stopping.cancel = cancel
            return stopping.ending
        }
        if alreadyRequested { cancel() }
    }

    /// Sleeps on the bot's clock; `false` if a stop came first.
    private func sleepUnlessStopped(_ duration: Duration) async -> Bool {
        do {
            try await cancellableOnStop { [clock = environment.clock] in try await clock.sleep(for: duration) }
            return true
        } catch {
            return false
        }
    }
}
