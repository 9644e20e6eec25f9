import Synchronization

/// Ends a call of ``BotAPIClient`` early from outside the task that made it.
///
/// A polling loop ends its waiting long poll when the operator pauses the bot, but must
/// not cancel its own task for that (a stop does). Running the poll in a task of its own,
/// which the pause could cancel, cost a task and a hop per poll; an interruption is a lock
/// and a callback. It ends the call while it waits for a place among the client's calls in
/// flight as well as while it waits for its answer. One interruption serves one call.
package final class CallInterruption: Sendable {
    private enum State {
        /// What ``interrupt()`` calls to end the wait under way, if any.
        case armed(cancel: (@Sendable () -> Void)?)
        case interrupted
    }

    private let state = Mutex(State.armed(cancel: nil))

    package init() {}

    /// Whether ``interrupt()`` was called.
    package var isInterrupted: Bool {
        state.withLock { if case .interrupted = $0 { true } else { false } }
    }

    /// Ends the call: at once if it waits (for a place or for its answer); before it is
    /// sent if it has not started, or cancelled just after it is handed to the connection.
    /// The call throws `CancellationError`.
    package func interrupt() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            defer { state = .interrupted }
            if case .armed(let cancel) = state { return cancel }
            return nil
        }
        cancel?()
    }

    /// Has ``interrupt()`` call `cancel` during the wait that begins; `false` (and no
    /// `cancel`) when it was interrupted already.
    func begin(cancellingWith cancel: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard case .armed = state else { return false }
            state = .armed(cancel: cancel)
            return true
        }
    }

    /// The wait is over: ``interrupt()`` has nothing to cancel until the next ``begin(cancellingWith:)``.
    func end() {
        state.withLock { state in
            if case .armed = state { state = .armed(cancel: nil) }
        }
    }
}
