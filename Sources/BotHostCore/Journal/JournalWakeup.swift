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
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// Ends the current wait, or the next one if none is under way.
    func wake() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return CheckedContinuation<Void, Never>?.none
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `interval`, at a wake, or when the task is cancelled, whichever
    /// comes first; `false` when the task was cancelled.
    func wait(atMost interval: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: interval) }
            group.addTask { await self.nextWake() }
            await group.next()
            group.cancelAll()
        }
        return !Task.isCancelled
    }

    private func nextWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if Task.isCancelled { return true }
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }
}
