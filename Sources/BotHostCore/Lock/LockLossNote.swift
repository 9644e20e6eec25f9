import Synchronization

/// The loss of a held lock, noted while a bot waits for something else (its polling, its
/// run in a worker) and asked for once that has ended (``end()``).
final class LockLossNote: Sendable {
    private struct State {
        var reason: LockLossReason?
        var watch: LockLossWatch?
        var ended = false
    }

    private let state = Mutex(State())

    /// Keeps `watch` for ``end()``, which cancels it (at once, if it has ended already).
    func watch(_ watch: LockLossWatch) {
        let ended = state.withLock { state in
            if !state.ended { state.watch = watch }
            return state.ended
        }
        if ended { watch.cancel() }
    }

    /// Notes the loss; `false` once the watch has ended (the loss came too late to count).
    func note(_ reason: LockLossReason) -> Bool {
        state.withLock { state in
            guard !state.ended, state.reason == nil else { return false }
            state.reason = reason
            return true
        }
    }

    /// Whether a loss was noted.
    var isNoted: Bool {
        state.withLock { $0.reason != nil }
    }

    /// Ends the watch and returns the loss noted before, if any.
    func end() -> LockLossReason? {
        let (reason, watch) = state.withLock { state in
            state.ended = true
            defer { state.watch = nil }
            return (state.reason, state.watch)
        }
        watch?.cancel()
        return reason
    }
}
