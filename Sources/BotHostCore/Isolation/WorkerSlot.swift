import BotHostKit
import Foundation
import Logging
import Subprocess
import Synchronization
import TelegramBotAPI

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One worker process of the supervisor, across its restarts: the bots it runs, their
/// statuses as it reports them, and its crashes.
///
/// ``run()`` starts the process, sends it a ``WorkerAssignment`` whenever its bots change
/// and mirrors its ``WorkerReport``s into the bots' statuses. A process that exits while
/// the pool is not stopping has crashed: it starts again after the delay that
/// ``RestartIntensity`` gives, with the same bots, whose locks the supervisor kept. One
/// crash too many fails them all with ``BotFailure/crashLoop(crashes:period:)``.
final class WorkerSlot: Sendable {
    /// `1`, `2`, …: in the supervisor's logs and the worker's own log lines.
    let index: Int
    /// Whether the slot runs a single `isolated: true` bot, and ends with it.
    let isolated: Bool
    private let pool: WorkerPool
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var bots: [String: Bot] = [:]
        /// The running process, if any.
        var pid: pid_t?
        /// The running process's standard input writer's queue: `nil` asks for the current
        /// assignment, a line is sent as it is.
        var changes: AsyncStream<[UInt8]?>.Continuation?
        /// Whether an assignment is queued and not yet written: one is enough.
        var assignmentQueued = false
        /// Forwarded webhook deliveries waiting for the process's answer, by message id.
        var deliveries: [UInt64: CheckedContinuation<WebhookAnswer, Never>] = [:]
        /// Requests for the process's metrics waiting for its answer, by message id.
        var metricsRequests: [UInt64: CheckedContinuation<String?, Never>] = [:]
        /// The id of the next message that the process answers.
        var nextMessageID: UInt64 = 1

        /// Queues the current assignment for the running process, unless one is queued.
        mutating func queueAssignment() {
            guard let changes, !assignmentQueued else { return }
            assignmentQueued = true
            changes.yield(nil)
        }
        /// The running process's metrics as it last gave them, in Prometheus text format.
        var metrics: String?
        /// Failed for good (a crash loop), or an isolated slot whose bot ended.
        var ended = false
    }

    /// A bot that the slot runs, and its runtime waiting for the end.
    private struct Bot {
        let lockID: LockID
        let status: BotStatus
        let ended: CheckedContinuation<BotRuntime.Outcome?, Never>
        /// Asked to stop: left out of the assignment.
        var removing = false
        /// Asked to stop because its lock was lost: named among the assignment's lost locks.
        var lockLost = false
        /// Whether an assignment naming the bot was written to the running process: until
        /// then the process does not know the bot, and so never reports its end.
        var assigned = false
    }

    init(index: Int, isolated: Bool, pool: WorkerPool, logger: Logger) {
        self.index = index
        self.isolated = isolated
        self.pool = pool
        var logger = logger
        logger[metadataKey: "worker"] = "\(index)"
        self.logger = logger
    }

    /// How many bots the slot runs; the pool gives a new bot to the least busy one.
    var load: Int { state.withLock { $0.bots.count } }

    var hasEnded: Bool { state.withLock { $0.ended } }

    /// How long ``metrics`` waits for the process's answer before it shows the metrics
    /// the process gave last: a scrape must not hang on a worker that is busy or dying.
    static let metricsTimeout = Duration.seconds(2)

    /// The running process's id, if any.
    var pid: pid_t? { state.withLock { $0.pid } }

    /// The running process's metrics in Prometheus text format, asked for now; those it
    /// gave last when it does not answer within ``metricsTimeout``; `nil` when no process
    /// runs.
    var metrics: String? {
        get async {
            let text = await ask(
                SupervisorMessage.collectMetrics, waiting: \.metricsRequests, unavailable: nil, timeout: Self.metricsTimeout)
            return state.withLock { state in
                if let text { state.metrics = text }
                return state.pid == nil ? nil : state.metrics
            }
        }
    }

    /// Runs `name` in this worker until it ends there; `nil` if the slot has ended and the
    /// pool must choose another. `ending` is asked once the bot is registered here: a
    /// ``remove(_:lockLost:)`` that came before found nothing to remove, so a bot that was to end
    /// (stopped, or its lock lost) is removed now.
    // Never inlined: each bot of a supervisor awaits this all its life, and inlined into the
    // pool's `run` it made that frame 300 bytes larger than the two apart.
    @inline(never)
    func run(
        _ name: String, lock: LockID, status: BotStatus, endingIf ending: @Sendable () -> Bool
    ) async -> BotRuntime.Outcome? {
        await withCheckedContinuation { ended in
            let accepted = state.withLock { state -> Bool in
                guard !state.ended else { return false }
                state.bots[name] = Bot(lockID: lock, status: status, ended: ended)
                state.queueAssignment()
                return true
            }
            if !accepted {
                ended.resume(returning: nil)
            } else if ending() {
                remove(name)
            }
        }
    }

    /// Stops `name` in the worker, which runs its stop sequence there (as a bot whose lock
    /// was lost when `lockLost`); its ``run(_:lock:status:endingIf:)`` returns once the worker
    /// reports it stopped, or at once when the process does not know the bot (none runs, or
    /// no assignment named it yet).
    func remove(_ name: String, lockLost: Bool = false) {
        let ended = state.withLock { state -> Bot? in
            guard state.pid != nil, state.bots[name]?.assigned == true else {
                defer { endIfIsolatedAndIdle(&state) }
                return state.bots.removeValue(forKey: name)
            }
            state.bots[name]?.removing = true
            if lockLost { state.bots[name]?.lockLost = true }
            state.queueAssignment()
            return nil
        }
        ended?.ended.resume(returning: .stopped)
    }

    /// Ends an isolated slot once its bot is gone, stopping its process if one runs.
    private func endIfIsolatedAndIdle(_ state: inout State) {
        guard isolated, state.bots.isEmpty else { return }
        state.ended = true
        if let pid = state.pid { kill(pid, SIGTERM) }
    }

    /// Sends the running process its assignment again: the pool's pauses or restarts changed.
    func reassign() {
        state.withLock { $0.queueAssignment() }
    }

    /// Forwards a webhook delivery for the bot whose lock id is `lock` to the running
    /// process, and returns its answer; ``WebhookAnswer/unavailable`` when no process runs
    /// or it exits first.
    func deliver(_ update: Update, lock: LockID) async -> WebhookAnswer {
        let text = String(decoding: update.raw.jsonText, as: UTF8.self)
        return await ask(
            { .deliver(ForwardedDelivery(id: $0, bot: lock.hex, update: text)) }, waiting: \.deliveries,
            unavailable: .unavailable)
    }

    /// Sends the running process the message that `message` makes of a new id, and returns
    /// the answer that ``apply(_:)`` finds for that id and resumes `waiting[id]` with;
    /// `unavailable` when no process runs, it exits first, or `timeout` passes first.
    private func ask<Answer: Sendable>(
        _ message: (UInt64) -> SupervisorMessage,
        waiting: any WritableKeyPath<State, [UInt64: CheckedContinuation<Answer, Never>]> & Sendable,
        unavailable: Answer, timeout: Duration? = nil
    ) async -> Answer {
        await withCheckedContinuation { answered in
            let id = state.withLock { state -> UInt64? in
                guard let changes = state.changes else { return nil }
                let id = state.nextMessageID
                state.nextMessageID += 1
                guard var line = try? JSONEncoder().encode(message(id)).map({ $0 }) else { return nil }
                line.append(UInt8(ascii: "\n"))
                state[keyPath: waiting][id] = answered
                changes.yield(line)
                return id
            }
            guard let id else { return answered.resume(returning: unavailable) }
            guard let timeout else { return }
            // Owned by the request: it ends after the timeout, whether or not it was answered.
            Task { [self] in
                try? await Task.sleep(for: timeout)
                state.withLock { $0[keyPath: waiting].removeValue(forKey: id) }?.resume(returning: unavailable)
            }
        }
    }

    /// Asks the running process to stop gracefully (SIGTERM), or at once (SIGKILL).
    func signal(_ signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    // MARK: - The process

    /// Runs the worker process, and again after each crash, until the pool stops, the
    /// crashes come too often, or an isolated slot's bot has ended.
    func run() async {
        var restarts = RestartIntensity(intensity: pool.settings.restartIntensity, period: pool.settings.restartPeriod)
        while !hasEnded && !pool.isStopping && !Task.isCancelled {
            let termination = await runProcess()
            if pool.isStopping || hasEnded || Task.isCancelled { break }
            let death = termination.map(Self.describe) ?? "could not be started"
            guard let delay = restarts.crashed(at: .now) else {
                let failure = BotFailure.crashLoop(crashes: restarts.recentCrashes, period: restarts.period)
                logger.error("worker \(index) \(death): \(failure); its bots fail")
                end(with: .failed(failure))
                return
            }
            let when = delay == .zero ? "at once" : "in \(formatDuration(delay))"
            logger.error("worker \(index) \(death); restarting it \(when)")
            for bot in state.withLock({ Array($0.bots.values) }) {
                var shown = bot.status.current
                shown.state = .starting
                shown.lastError = "worker \(index) \(death)"
                shown.workerPID = nil
                bot.status.mirror(shown)
            }
            try? await Task.sleep(for: delay)
        }
        end(with: .stopped)
    }

    /// Fails or stops every bot the slot still has, and ends the slot.
    private func end(with outcome: BotRuntime.Outcome) {
        let bots = state.withLock { state in
            state.ended = true
            defer { state.bots = [:] }
            return Array(state.bots.values)
        }
        for bot in bots { bot.ended.resume(returning: outcome) }
    }

    /// One run of the process: `nil` if it could not be started.
    private func runProcess() async -> TerminationStatus? {
        var options = PlatformOptions()
        // A group of its own: a terminal's Ctrl-C reaches the supervisor alone, which then
        // stops the workers in order.
        options.processGroupID = 0
        let (changes, notifier) = AsyncStream<[UInt8]?>.makeStream()
        do {
            let result = try await Subprocess.run(
                .path(FilePath(pool.launcher.executable)),
                arguments: Arguments(pool.launcher.arguments(index: index, workers: pool.settings.workers)),
                environment: .inherit.updating(workerEnvironment),
                platformOptions: options,
                input: .inputWriter, output: .sequence, error: .currentStandardError
            ) { execution in
                state.withLock { state in
                    state.pid = execution.processIdentifier.value
                    state.changes = notifier
                    // An isolated slot whose bot went while the process started.
                    if state.ended { kill(execution.processIdentifier.value, SIGTERM) }
                    state.queueAssignment()
                }
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        for await line in changes {
                            let written = try? await execution.standardInputWriter.write(line ?? self.assignmentLine())
                            guard written != nil else { break }
                        }
                    }
                    await self.readReports(execution.standardOutput)
                    notifier.finish()
                }
                // The body returns, and standard input closes, once the worker has exited: an
                // end of input tells a worker that its supervisor is gone.
            }
            exited()
            return result.terminationStatus
        } catch {
            logger.error("cannot start worker \(index): \(error)")
            exited()
            return nil
        }
    }

    /// What the worker's environment changes of ours: systemd listens to the supervisor
    /// alone (`NotifyAccess=main`), and Swift's backtracer, which takes seconds to
    /// symbolicate a crash, is off unless the operator chose otherwise; the runtime still
    /// prints the trap's message.
    private var workerEnvironment: [Environment.Key: String?] {
        var changes: [Environment.Key: String?] = ["NOTIFY_SOCKET": nil, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]
        if ProcessInfo.processInfo.environment["SWIFT_BACKTRACE"] == nil { changes["SWIFT_BACKTRACE"] = "enable=no" }
        return changes
    }

    /// The worker's bots, as one line of JSON.
    private func assignmentLine() -> [UInt8] {
        let (bots, lostLocks) = state.withLock { state in
            state.assignmentQueued = false
            let named = state.bots.filter { !$0.value.removing }
            for name in named.keys { state.bots[name]?.assigned = true }
            return (named.mapValues(\.lockID.hex), Set(state.bots.values.filter(\.lockLost).map(\.lockID.hex)))
        }
        let message = SupervisorMessage.assign(pool.assignment(bots: bots, lostLocks: lostLocks))
        // The supervisor's part of a start or a reload (the manifest read, the locks taken)
        // is done once its bots are placed.
        ResidentSetTrimmer.shared.trimSoon([.heap, .filePages])
        var line = (try? JSONEncoder().encode(message)).map(Array.init) ?? []
        line.append(UInt8(ascii: "\n"))
        return line
    }

    private func readReports(_ output: SubprocessOutputSequence) async {
        let decoder = JSONDecoder()
        var pending: [UInt8] = []
        do {
            for try await buffer in output {
                // A report with the metrics of a thousand bots is megabytes long and comes
                // in many reads: only the bytes just read can hold its end.
                var searchFrom = pending.endIndex
                buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
                var start = pending.startIndex
                while let newline = pending[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                    if let report = try? decoder.decode(WorkerReport.self, from: Data(pending[start..<newline])) {
                        apply(report)
                    }
                    start = newline + 1
                    searchFrom = start
                }
                pending.removeSubrange(..<start)
            }
        } catch {
            logger.warning("worker \(index): cannot read its reports: \(error)")
        }
    }

    /// Mirrors a report into the bots' statuses, and ends the bots it reports ended.
    private func apply(_ report: WorkerReport) {
        var shown: [(BotStatus, BotStatus.Snapshot)] = []
        var ended: [(Bot, BotRuntime.Outcome)] = []
        var answered: [() -> Void] = []
        defer { for resume in answered { resume() } }
        state.withLock { state in
            for answer in report.answers ?? [] {
                if let continuation = state.deliveries.removeValue(forKey: answer.id) {
                    answered.append { continuation.resume(returning: answer.answer) }
                }
            }
            if let metrics = report.metrics, let continuation = state.metricsRequests.removeValue(forKey: metrics.id) {
                answered.append { continuation.resume(returning: metrics.text) }
            }
            for (name, snapshot) in report.bots {
                guard let bot = state.bots[name] else { continue }
                var mirrored = snapshot
                mirrored.workerPID = state.pid
                shown.append((bot.status, mirrored))
                switch snapshot.state {
                case .stopped: ended.append((bot, .stopped))
                case .failed:
                    let failure = BotFailure.failedInWorker(summary: snapshot.failure ?? "failed", snapshot.lastError ?? "failed")
                    ended.append((bot, .failed(failure)))
                default: continue
                }
                state.bots[name] = nil
            }
            guard !ended.isEmpty else { return }
            endIfIsolatedAndIdle(&state)
            if !state.ended { state.queueAssignment() }
        }
        for (status, snapshot) in shown { status.mirror(snapshot) }
        for (bot, outcome) in ended { bot.ended.resume(returning: outcome) }
    }

    /// The process has exited: bots that were being stopped have stopped.
    private func exited() {
        let (stopped, deliveries, metricsRequests) = state.withLock { state in
            state.pid = nil
            state.changes = nil
            state.assignmentQueued = false
            state.metrics = nil
            defer { (state.deliveries, state.metricsRequests) = ([:], [:]) }
            let removing = state.bots.filter(\.value.removing)
            for name in removing.keys { state.bots[name] = nil }
            if !removing.isEmpty { endIfIsolatedAndIdle(&state) }
            // The next process learns of the others from its first assignment.
            for name in state.bots.keys { state.bots[name]?.assigned = false }
            return (Array(removing.values), state.deliveries.values, state.metricsRequests.values)
        }
        for delivery in deliveries { delivery.resume(returning: .unavailable) }
        for request in metricsRequests { request.resume(returning: nil) }
        for bot in stopped { bot.ended.resume(returning: .stopped) }
    }

    /// `crashed (signal 4)` or `exited with status 1`.
    private static func describe(_ termination: TerminationStatus) -> String {
        switch termination {
        case .signaled(let signal): "crashed (signal \(signal), \(String(cString: strsignal(signal))))"
        case .exited(let code): "exited with status \(code)"
        }
    }
}
