import Synchronization

/// Ends a call of ``BotAPIClient`` early from outside the task that made it.
///
/// A polling loop ends its waiting long poll when the operator pauses the bot, but must
/// not cancel its own task for that (a stop does). Running the poll in a task of its own,
/// which the pause could cancel, cost a task (and its allocation, a few KiB) per waiting
/// poll, so per idle bot; an interruption is a lock and a callback. One interruption serves
/// one call.
package final class CallInterruption: Sendable {
    private enum State {
        case waiting(cancel: (@Sendable () -> Void)?)
        case interrupted
    }

    private let state = Mutex(State.waiting(cancel: nil))

    package init() {}

    /// Whether ``interrupt()`` was called.
    package var isInterrupted: Bool {
        state.withLock { if case .interrupted = $0 { true } else { false } }
    }

    /// Ends the call: at once if it is under way, as it starts otherwise. The call throws
    /// `CancellationError`.
    package func interrupt() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            defer { state = .interrupted }
            if case .waiting(let cancel) = state { return cancel }
            return nil
        }
        cancel?()
    }

    /// Has ``interrupt()`` call `cancel` while the call is under way; `false` (and no
    /// `cancel`) when it was interrupted already.
    func begin(cancellingWith cancel: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard case .waiting = state else { return false }
            state = .waiting(cancel: cancel)
            return true
        }
    }

    /// The call is over: ``interrupt()`` has nothing to cancel any more.
    func end() {
        state.withLock { state in
            if case .waiting = state { state = .waiting(cancel: nil) }
        }
    }
}
