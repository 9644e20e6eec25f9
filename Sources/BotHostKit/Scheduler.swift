import Logging
import Synchronization
import TelegramBotAPI

/// Repeating and one-shot jobs for a plugin: `every: 1h`, `after: 10s`.
///
/// Jobs run on the bot's clock (a manual one in tests, so a test can move time instead of
/// waiting), on the plugin threads (apart from the event loops), and stop with the bot: the host calls ``cancelAll()`` before the bot's
/// shutdown hooks run, so no job uses what a hook closes. A job that throws is logged; a
/// repeating job keeps its schedule.
///
/// A job's Bot API calls are bulk sending: when the bot's rate limits (`limits:`) hold
/// calls back, they go after the replies to updates. So a broadcast is a job, and a
/// handler that starts one schedules it (`after: .zero`) rather than sending from the
/// handler. See <doc:CallingTheBotAPI>.
public final class Scheduler: Sendable {
    /// A scheduled job; ``cancel()`` stops it.
    public struct Job: Sendable {
        fileprivate let id: UInt64
        fileprivate let scheduler: Scheduler

        public func cancel() {
            scheduler.state.withLock { $0.jobs.removeValue(forKey: id) }?.task.cancel()
        }
    }

    private struct Entry {
        var name: String
        var task: Task<Void, Never>
    }

    private struct State {
        var jobs: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var cancelled = false
    }

    private let state = Mutex(State())
    private let clock: any Clock<Duration>
    private let logger: Logger

    package init(clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.clock = clock
        self.logger = logger
    }

    /// Runs `job` every `interval`, the first time one interval from now.
    @discardableResult
    public func every(_ interval: Duration, name: String, _ job: @escaping @Sendable () async throws -> Void) -> Job {
        schedule(name: name) { [clock, logger] in
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
                await Self.run(job, name: name, logger: logger)
            }
        }
    }

    /// Runs `job` once, `delay` from now.
    @discardableResult
    public func after(_ delay: Duration, name: String, _ job: @escaping @Sendable () async throws -> Void) -> Job {
        schedule(name: name) { [clock, logger] in
            do {
                try await clock.sleep(for: delay)
            } catch {
                return
            }
            await Self.run(job, name: name, logger: logger)
        }
    }

    /// The names of the jobs still scheduled.
    public var jobNames: [String] { state.withLock { $0.jobs.values.map(\.name).sorted() } }

    /// Cancels every job, waits for running ones to end, and refuses new ones.
    public func cancelAll() async {
        let entries = state.withLock { state in
            state.cancelled = true
            defer { state.jobs.removeAll() }
            return Array(state.jobs.values)
        }
        for entry in entries { entry.task.cancel() }
        for entry in entries { await entry.task.value }
    }

    private func schedule(name: String, _ body: @escaping @Sendable () async -> Void) -> Job {
        // The task is made and recorded under one lock, so a ``cancelAll()`` either sees it
        // and cancels it, or came first and refuses it: no job outlives its scheduler.
        let id = state.withLock { state -> UInt64? in
            guard !state.cancelled else { return nil }
            state.nextID += 1
            let id = state.nextID
            // Owned by this scheduler: ends with its job, or when cancelled by ``Job/cancel()``
            // or ``cancelAll()``, which waits for it.
            let task = Task(executorPreference: PluginExecutor.shared) { [weak self] in
                await body()
                self?.state.withLock { _ = $0.jobs.removeValue(forKey: id) }
            }
            state.jobs[id] = Entry(name: name, task: task)
            return id
        }
        guard let id else {
            logger.warning("job not scheduled: the scheduler has stopped", metadata: ["job": "\(name)"])
            return Job(id: 0, scheduler: self)
        }
        return Job(id: id, scheduler: self)
    }

    /// Runs one turn of a job; its Bot API calls go behind the bot's replies.
    private static func run(_ job: @Sendable () async throws -> Void, name: String, logger: Logger) async {
        do {
            try await SendPriority.$current.withValue(.bulk) { try await job() }
        } catch is CancellationError {
        } catch {
            logger.error("scheduled job failed: \(error)", metadata: ["job": "\(name)"])
        }
    }
}
