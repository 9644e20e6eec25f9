import Dispatch
import Synchronization

/// Tells a bot's journal housekeeping to look at once: the operator handed dead letters
/// back through the control API, and the bot should try them again now, not at its next
/// housekeeping interval.
///
/// A wake that comes while nobody waits is kept for the next wait, so none is lost
/// between two passes. One waiter at a time: the bot's housekeeping loop.
final class JournalWakeup: Sendable {
    private let state = Mutex(State())

    private struct State {
        var pending = false
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var nextID = 0

        /// Takes the waiter, if it is the wait `id` (any wait for `nil`).
        mutating func takeWaiter(_ id: Int? = nil) -> CheckedContinuation<Void, Never>? {
            guard let waiter, id == nil || waiter.id == id else { return nil }
            self.waiter = nil
            return waiter.continuation
        }
    }

    /// Ends the current wait, or the next one if none is under way.
    func wake() {
        let waiter = state.withLock { state in
            let waiter = state.takeWaiter()
            if waiter == nil { state.pending = true }
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `interval`, at a wake, or when the task is cancelled, whichever
    /// comes first; `false` when the task was cancelled.
    ///
    /// The interval is a Dispatch timer, not a sleeping task: every bot waits here nearly
    /// all the time, and a task or two per bot for it would cost a thousand idle bots
    /// megabytes.
    func wait(atMost interval: Duration) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let timer = DispatchWorkItem { [self] in end(id) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(interval.nanoseconds)), execute: timer)
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if Task.isCancelled { return true }
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            end(id)
        }
        timer.cancel()
        return !Task.isCancelled
    }

    /// Ends the wait `id`, if it is still under way.
    private func end(_ id: Int) {
        state.withLock { $0.takeWaiter(id) }?.resume()
    }
}
