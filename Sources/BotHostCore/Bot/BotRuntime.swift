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
/// the API client, release the lock. Nothing in here touches another bot.
final class BotRuntime: Sendable {
    /// How a bot's run ended.
    enum Outcome: Sendable, Equatable {
        case stopped
        case failed(String)
    }

    let configuration: BotConfiguration
    let status: BotStatus
    private let plugin: any BotPlugin.Type
    private let apiURL: String
    private let environment: HostEnvironment
    private let shutdownSettings: ShutdownSettings
    private let logger: Logger
    /// Cancels whatever the bot is waiting on (a lock, a poll, a retry) when a stop comes.
    private let stopping = Mutex<(requested: Bool, cancel: (@Sendable () -> Void)?)>((false, nil))

    init(
        configuration: BotConfiguration, plugin: any BotPlugin.Type, apiURL: String, shutdown: ShutdownSettings,
        environment: HostEnvironment, metrics: BotMetrics
    ) {
        self.configuration = configuration
        self.plugin = plugin
        self.apiURL = apiURL
        self.shutdownSettings = shutdown
        self.environment = environment
        var logger = environment.logger
        logger[metadataKey: "bot"] = "\(configuration.name)"
        self.logger = logger
        self.status = BotStatus(name: configuration.name, logger: logger, metrics: metrics)
    }

    var isStopRequested: Bool { stopping.withLock { $0.requested } }

    /// Stops the bot: a pending poll, retry wait or lock wait ends at once.
    func requestStop() {
        let cancel = stopping.withLock { stopping in
            stopping.requested = true
            return stopping.cancel
        }
        cancel?()
    }

    /// Runs the bot until stopped or failed. `lock` is the bot's lock (and its slot) if the
    /// host already took it; otherwise the bot stands by until a slot is free and
    /// `tokenLock` gives it the lock. The slot is given back with the lock. A lock lost
    /// with its database session stops the bot and sends it back to stand by.
    func run(lock: (any HeldTokenLock)?, tokenLock: any TokenLock, slots: BotSlots) async -> Outcome {
        var given = lock
        while true {
            let held: any HeldTokenLock
            if let lock = given.take() {
                held = lock
            } else {
                status.enter(.standby)
                guard let taken = await standBy(for: tokenLock, slots: slots) else {
                    status.enter(.stopped)
                    status.events.finish()
                    return .stopped
                }
                held = taken
                logger.info("lock taken over: this host now polls the bot")
            }
            status.lockHeld(true)
            let ending = await runHoldingLock(held)
            await held.release()
            slots.give()
            status.lockHeld(false)
            logger.info("lock released")
            let outcome: Outcome
            switch ending {
            case .lockLost(let reason) where reason.canBeRetaken && !isStopRequested:
                logger.warning("standing by to take the lock again")
                continue
            case .lockLost(let reason):
                outcome = isStopRequested ? .stopped : .failed("lock lost: \(reason)")
            case .outcome(let ended):
                outcome = ended
            }
            if case .failed(let reason) = outcome {
                status.failed(reason)
                logger.error("bot failed: \(reason)")
            }
            status.enter(outcome == .stopped ? .stopped : .failed)
            status.events.finish()
            return outcome
        }
    }

    /// How a bot's time holding its lock ended.
    private enum Ending {
        case outcome(Outcome)
        case lockLost(LockLossReason)
    }

    /// How many standby rechecks pass between tries of a bot over the `max_bots` limit:
    /// hosts under their limit get the first chance at a freed lock.
    static let overLimitTryEvery = 5

    /// Waits for a slot and the lock until both are free or a stop is requested (`nil`).
    ///
    /// Over the `max_bots` limit, the bot still tries its lock now and then: a lock it has
    /// seen held elsewhere and then finds free belonged to a host that died or stopped, and
    /// the bot is adopted beyond the limit rather than left unpolled. A lock it never saw
    /// held is let go at once: nobody polls that bot, and the limit says not here.
    private func standBy(for tokenLock: any TokenLock, slots: BotSlots) async -> (any HeldTokenLock)? {
        let owner = LockOwner.currentProcess(bot: configuration.name)
        var reportedHolder: Int32?
        var reportedError: String?
        var sawHolder = false
        var round = 0
        while !isStopRequested {
            round += 1
            let withinLimit = slots.take()
            if withinLimit || round % Self.overLimitTryEvery == 0 {
                if !withinLimit { slots.takeBeyondLimit() }
                do {
                    switch try await tokenLock.tryAcquire(configuration.lockID, owner: owner) {
                    case .acquired(let held) where withinLimit || sawHolder:
                        if !withinLimit { logger.warning("adopting the bot beyond max_bots: its previous host is gone") }
                        return held
                    case .acquired(let held):
                        slots.give()
                        await held.release()
                    case .heldElsewhere(let holder):
                        slots.give()
                        sawHolder = true
                        if let pid = holder?.pid, pid != reportedHolder {
                            reportedHolder = pid
                            logger.info("standing by: the bot is polled by pid \(pid) on \(holder?.hostname ?? "?")")
                        }
                    }
                } catch {
                    slots.give()
                    if "\(error)" != reportedError {
                        reportedError = "\(error)"
                        logger.error("cannot take the lock: \(error); trying again")
                    }
                }
            }
            guard await sleepUnlessStopped(environment.standbyRecheckInterval) else { return nil }
        }
        return nil
    }

    private func runHoldingLock(_ held: any HeldTokenLock) async -> Ending {
        status.enter(.starting)
        let api = BotAPIClient(
            token: configuration.token,
            configuration: .init(
                baseURL: apiURL, maxConnections: configuration.polling.maxConcurrentUpdates + 2,
                sendRetries: configuration.sendRetries, clock: environment.clock),
            logger: logger)
        let hooks = ShutdownHooks(defaultTimeout: shutdownSettings.hookTimeout, logger: logger)
        let scheduler = Scheduler(clock: environment.clock, logger: logger)

        let ending: Ending
        var pipeline: PollingPipeline?
        switch await start(api: api, hooks: hooks, scheduler: scheduler) {
        case .ready(let started):
            pipeline = started
            ending = await poll(with: started, watching: held)
        case .ended(let ended):
            ending = .outcome(ended)
        }

        status.enter(.stopping)
        if let pipeline {
            await pipeline.drain(within: shutdownSettings.drainTimeout)
            // Confirming is a poll; without the lock it could end the new holder's poll with
            // a 409. The new holder gets the unconfirmed updates again instead.
            if case .outcome = ending { await pipeline.confirmOffset() }
        }
        await hooks.run()
        await scheduler.cancelAll()
        try? await api.shutdown()
        return ending
    }

    /// How start-up ended: a pipeline ready to poll, or the bot's outcome.
    private enum Start {
        case ready(PollingPipeline)
        case ended(Outcome)
    }

    /// `getMe`, the webhook check and the plugin; `.ended(.stopped)` if a stop came first.
    private func start(api: BotAPIClient, hooks: ShutdownHooks, scheduler: Scheduler) async -> Start {
        var backoff = Backoff(policy: configuration.retry, random: environment.random)
        var me: User?
        while me == nil {
            if isStopRequested { return .ended(.stopped) }
            do {
                me = try await cancellableOnStop { try await api.getMe() }
            } catch is CancellationError {
                return .ended(.stopped)
            } catch let error as BotAPIError where error.isTokenRejected {
                return .ended(.failed("the token was rejected (\(error)); check it with @BotFather"))
            } catch {
                guard let delay = backoff.nextDelay() else {
                    return .ended(.failed("gave up after \(backoff.attempt - 1) retries: getMe: \(error)"))
                }
                logger.warning("getMe failed: \(error) (attempt \(backoff.progress)), retrying in \(formatDuration(delay))")
                status.failed("getMe: \(error)")
                guard await sleepUnlessStopped(delay) else { return .ended(.stopped) }
            }
        }
        guard let me else { return .ended(.stopped) }
        logger.info("token accepted", metadata: ["username": "\(me.username ?? "?")"])

        do {
            let webhook = try await cancellableOnStop { try await api.getWebhookInfo() }
            if !webhook.url.isEmpty {
                guard configuration.deleteWebhook else {
                    return .ended(
                        .failed("a webhook is set, so getUpdates cannot poll; delete it or set delete_webhook: true"))
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
            shutdown: hooks, scheduler: scheduler, events: status.events)
        let instance: any BotPlugin
        do {
            instance = try await plugin.init(context: context)
        } catch {
            return .ended(.failed("plugin '\(plugin.name)' did not start: \(error)"))
        }
        return .ready(
            PollingPipeline(
                configuration: configuration, api: api, status: status, clock: environment.clock,
                random: environment.random, logger: logger, handler: { update in try await instance.handle(update) }))
    }

    /// Polls until a stop, a failure, or the loss of the lock; first waits until the lock is
    /// safe to poll under (``HeldTokenLock/waitUntilSafeToPoll()``).
    private func poll(with pipeline: PollingPipeline, watching held: any HeldTokenLock) async -> Ending {
        let lockWatch = Task { [logger] () -> LockLossReason? in
            guard let reason = try? await held.lost() else { return nil }
            logger.error("lock lost: \(reason); stopping this bot's polling")
            return reason
        }
        defer { lockWatch.cancel() }
        let polling = Task {
            guard (try? await held.waitUntilSafeToPoll()) != nil else { return PollingPipeline.End.stopped }
            return await pipeline.run()
        }
        let watcher = Task {
            if await lockWatch.value != nil { polling.cancel() }
        }
        defer { watcher.cancel() }
        let end = await cancellableOnStop(polling)
        if case .failed(let reason) = end { return .outcome(.failed(reason)) }
        if !isStopRequested, let reason = await lockWatch.value { return .lockLost(reason) }
        return .outcome(.stopped)
    }

    // MARK: - Stop-aware waiting

    /// Runs `operation` in a task that ``requestStop()`` cancels.
    private func cancellableOnStop<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        onStop { task.cancel() }
        return try await task.value
    }

    /// Awaits `task`, cancelling it when a stop is requested.
    private func cancellableOnStop<T: Sendable>(_ task: Task<T, Never>) async -> T {
        onStop { task.cancel() }
        return await task.value
    }

    /// Makes `cancel` what the next ``requestStop()`` calls; calls it now if a stop was
    /// already requested.
    private func onStop(_ cancel: @escaping @Sendable () -> Void) {
        let alreadyRequested = stopping.withLock { stopping in
            stopping.cancel = cancel
            return stopping.requested
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
