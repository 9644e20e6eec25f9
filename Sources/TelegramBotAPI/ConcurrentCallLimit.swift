import Synchronization

/// At most a fixed number of calls in flight at a time; the others wait, in the order they
/// came, for one to finish.
///
/// A client that shares its connections (``BotAPIConnections``) with other bots' clients
/// keeps to its own budget with it, so that no bot takes more connections than one of its
/// own would have had: a bot that floods its calls queues them behind each other, not in
/// front of another bot's. The host gives its bots' starts turns through one, too.
package final class ConcurrentCallLimit: Sendable {
    private struct State {
        var available: Int
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// `limit` calls at a time, at least one.
    package init(_ limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `call` once fewer than the limit are running. Throws `CancellationError` when
    /// the task is cancelled or `interruption` interrupted while it waits.
    package func run<Result>(
        interruptedBy interruption: CallInterruption? = nil, _ call: () async throws -> Result
    ) async throws -> Result {
        try await enter(interruptedBy: interruption)
        defer { leave() }
        return try await call()
    }

    /// Waits until fewer than the limit are running and gives a place, which goes to the
    /// next caller at ``Turn/end()`` or after `holding`, whichever comes first: a caller
    /// that hangs holds the others back by `holding` at most. Throws `CancellationError`
    /// when the task is cancelled while it waits.
    package func turn(holdingAtMost holding: Duration) async throws -> Turn {
        try await enter()
        let turn = Turn(limit: self)
        turn.end(after: holding)
        return turn
    }

    /// A place among those running (``turn(holdingAtMost:)``), given back once.
    package final class Turn: Sendable {
        private let limit: ConcurrentCallLimit
        /// Whether the place is still held, and the task that gives it back at the deadline.
        private let state = Mutex<(held: Bool, deadline: Task<Void, Never>?)>((true, nil))

        fileprivate init(limit: ConcurrentCallLimit) {
            self.limit = limit
        }

        fileprivate func end(after holding: Duration) {
            // Owned by the turn: ``end()`` cancels it.
            let deadline = Task {
                try? await Task.sleep(for: holding)
                self.end()
            }
            // Kept only while the place is held: a deadline that came first has ended it.
            state.withLock { if $0.held { $0.deadline = deadline } }
        }

        /// Gives the place to the next caller; the later calls do nothing.
        package func end() {
            // The deadline's task goes with it: a bot keeps its turn all its life.
            let (stillHeld, deadline) = state.withLock { state in
                defer { state = (false, nil) }
                return (state.held, state.deadline)
            }
            guard stillHeld else { return }
            deadline?.cancel()
            limit.leave()
        }
    }

    private func enter(interruptedBy interruption: CallInterruption? = nil) async throws {
        let id = state.withLock { state -> UInt64? in
            guard state.available == 0 else {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        if let interruption {
            guard interruption.begin(cancellingWith: { [self] in stopWaiting(id) }) else { throw CancellationError() }
        }
        defer { interruption?.end() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Checked under the lock: a cancellation or an interruption either comes
                // before (seen here) or finds the continuation in `waiting` (the flags are set
                // before their handlers run).
                let cancelled = state.withLock { state in
                    if Task.isCancelled || interruption?.isInterrupted == true { return true }
                    if state.available > 0 {
                        state.available -= 1
                        continuation.resume()
                    } else {
                        state.waiting.append((id, continuation))
                    }
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            stopWaiting(id)
        }
    }

    /// Ends the wait of caller `id` with `CancellationError`, if it still waits.
    private func stopWaiting(_ id: UInt64) {
        let waiter = state.withLock { state in
            state.waiting.firstIndex { $0.id == id }.map { state.waiting.remove(at: $0).continuation }
        }
        waiter?.resume(throwing: CancellationError())
    }

    /// Hands the finished call's place to the first waiter, if any.
    private func leave() {
        let next = state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.available += 1
                return nil as CheckedContinuation<Void, any Error>?
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}
