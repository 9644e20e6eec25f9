import Synchronization

/// How a time-limited piece of work ended.
package enum TimeLimitedOutcome: Sendable {
    case finished
    case failed(any Error)
    case timedOut
}

/// Runs `operation` for at most `limit` on `clock`, on `executor` when one is given
/// (``PluginExecutor`` for plugin code).
///
/// When the limit passes, the operation is cancelled and this returns `.timedOut` at
/// once, without waiting for it to notice: a hook or handler that never returns must
/// not hold up the rest of a shutdown or the other chats. The abandoned work keeps
/// running in its own task until it ends by itself or the process exits.
package func runWithTimeLimit(
    _ limit: Duration, clock: any Clock<Duration>, on executor: (any TaskExecutor)? = nil,
    _ operation: @escaping @Sendable () async throws -> Void
) async -> TimeLimitedOutcome {
    await runUntilFirstOutcome(operation, on: executor) { outcome in
        // Cancelled by the returned closure once the operation has an outcome.
        let timer = Task {
            guard (try? await clock.sleep(for: limit)) != nil else { return }
            outcome.settle(.timedOut)
        }
        return { timer.cancel() }
    }
}

/// Runs many operations, each for at most the same `limit`, as ``runWithTimeLimit(_:clock:_:)``
/// does, but with one timer among them instead of one each.
///
/// A bot runs its handler of every update under the handler timeout: a timer per update
/// cost a task and a timer armed for the whole limit (60 s by default) and cancelled
/// right after, thousands of them a second. Here one watchdog task sleeps until the
/// earliest deadline of the operations still running, times out those past it, and ends
/// when none are left; with a constant limit and a monotonic clock, deadlines come in the
/// order the operations started.
package final class TimeLimiter: Sendable {
    private struct Watched {
        var deadline: ContinuousClock.Instant
        var outcome: FirstOutcome
    }

    private struct State {
        var watched: [UInt64: Watched] = [:]
        var nextID: UInt64 = 0
        var watchdogRunning = false
    }

    private let limit: Duration
    private let executor: (any TaskExecutor)?
    private let clock = ContinuousClock()
    private let state = Mutex(State())

    /// - Parameter executor: where the operations run; ``PluginExecutor`` for plugin code.
    package init(limit: Duration, executor: (any TaskExecutor)? = nil) {
        self.limit = limit
        self.executor = executor
    }

    /// Runs `operation` for at most the limit; see ``runWithTimeLimit(_:clock:on:_:)``.
    package func run(_ operation: @escaping @Sendable () async throws -> Void) async -> TimeLimitedOutcome {
        await runUntilFirstOutcome(operation, on: executor) { outcome in
            let id = watch(outcome)
            return { self.state.withLock { _ = $0.watched.removeValue(forKey: id) } }
        }
    }

    private func watch(_ outcome: FirstOutcome) -> UInt64 {
        let deadline = clock.now.advanced(by: limit)
        let (id, startWatchdog) = state.withLock { state in
            state.nextID += 1
            state.watched[state.nextID] = Watched(deadline: deadline, outcome: outcome)
            defer { state.watchdogRunning = true }
            return (state.nextID, !state.watchdogRunning)
        }
        // Owned by this limiter: it ends by itself once nothing is watched.
        if startWatchdog { Task { await watchdog() } }
        return id
    }

    private func watchdog() async {
        while let earliest = nextDeadline() {
            try? await clock.sleep(until: earliest)
            let now = clock.now
            let expired = state.withLock { state in
                let expired = state.watched.filter { $0.value.deadline <= now }
                for id in expired.keys { state.watched.removeValue(forKey: id) }
                return expired.values.map(\.outcome)
            }
            for outcome in expired { outcome.settle(.timedOut) }
        }
    }

    /// The earliest deadline being watched; `nil` ends the watchdog.
    private func nextDeadline() -> ContinuousClock.Instant? {
        state.withLock { state in
            guard let earliest = state.watched.values.lazy.map(\.deadline).min() else {
                state.watchdogRunning = false
                return nil
            }
            return earliest
        }
    }
}

/// Runs `operation` in its own task (on `executor`, if any) and returns whichever comes
/// first: its end, a timeout that `armTimer` settles on the outcome, or the cancellation of
/// the calling task. `armTimer` returns what disarms it. An operation that did not finish
/// is cancelled.
private func runUntilFirstOutcome(
    _ operation: @escaping @Sendable () async throws -> Void, on executor: (any TaskExecutor)?,
    armTimer: (FirstOutcome) -> @Sendable () -> Void
) async -> TimeLimitedOutcome {
    let outcome = FirstOutcome()
    var work: Task<Void, Never>?
    var disarm: (@Sendable () -> Void)?
    let result = await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            outcome.wait(with: continuation)
            if Task.isCancelled {
                outcome.settle(.failed(CancellationError()))
                return
            }
            // Unstructured on purpose: work that overruns its limit is abandoned, not
            // awaited; it ends by itself or with the process.
            work = Task(executorPreference: executor) {
                do {
                    try await operation()
                    outcome.settle(.finished)
                } catch {
                    outcome.settle(.failed(error))
                }
            }
            disarm = armTimer(outcome)
        }
    } onCancel: {
        outcome.settle(.failed(CancellationError()))
    }
    disarm?()
    if case .finished = result {} else { work?.cancel() }
    return result
}

/// Resumes one waiter with whichever outcome comes first.
private final class FirstOutcome: Sendable {
    private let continuation = Mutex<CheckedContinuation<TimeLimitedOutcome, Never>?>(nil)

    func wait(with continuation: CheckedContinuation<TimeLimitedOutcome, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func settle(_ outcome: TimeLimitedOutcome) {
        continuation.withLock { $0.take() }?.resume(returning: outcome)
    }
}

/// Runs `body` and returns its result with the time it took on `clock`.
package func measure<T>(on clock: some Clock<Duration>, _ body: () async -> T) async -> (T, Duration) {
    let start = clock.now
    let result = await body()
    return (result, start.duration(to: clock.now))
}
