import Synchronization

/// How a time-limited piece of work ended.
package enum TimeLimitedOutcome: Sendable {
    case finished
    case failed(any Error)
    case timedOut
}

/// Runs `operation` for at most `limit` on `clock`.
///
/// When the limit passes, the operation is cancelled and this returns `.timedOut` at
/// once, without waiting for it to notice: a hook or handler that never returns must
/// not hold up the rest of a shutdown or the other chats. The abandoned work keeps
/// running in its own task until it ends by itself or the process exits.
package func runWithTimeLimit(
    _ limit: Duration, clock: any Clock<Duration>, _ operation: @escaping @Sendable () async throws -> Void
) async -> TimeLimitedOutcome {
    let outcome = FirstOutcome()
    var work: Task<Void, Never>?
    var timer: Task<Void, Never>?
    let result = await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            outcome.wait(with: continuation)
            if Task.isCancelled {
                outcome.settle(.failed(CancellationError()))
                return
            }
            work = Task {
                do {
                    try await operation()
                    outcome.settle(.finished)
                } catch {
                    outcome.settle(.failed(error))
                }
            }
            timer = Task {
                guard (try? await clock.sleep(for: limit)) != nil else { return }
                outcome.settle(.timedOut)
            }
        }
    } onCancel: {
        outcome.settle(.failed(CancellationError()))
    }
    timer?.cancel()
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
