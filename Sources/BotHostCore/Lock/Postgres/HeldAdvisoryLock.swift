import Synchronization

/// A bot's advisory lock, held by this host's ``LockSession`` until released or until the
/// session ends.
final class HeldAdvisoryLock: HeldTokenLock {
    let id: LockID
    /// The session's connection generation that took the lock: a lock never outlives it.
    let generation: UInt64
    private let session: LockSession
    private let pollableAt: ContinuousClock.Instant
    private let state = Mutex(State())

    private struct State {
        var ended: LockLossReason?
        var waiters: [UInt64: CheckedContinuation<LockLossReason, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }

    init(id: LockID, generation: UInt64, session: LockSession, takeoverDelay: Duration) {
        self.id = id
        self.generation = generation
        self.session = session
        self.pollableAt = .now + takeoverDelay
    }

    var key: Int64 { id.advisoryLockKey }

    func lost() async throws -> LockLossReason {
        let waiter = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let answer = state.withLock { state -> Result<LockLossReason, any Error>? in
                    if let ended = state.ended { return .success(ended) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[waiter] = continuation
                    return nil
                }
                if let answer { continuation.resume(with: answer) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: waiter) }?.resume(throwing: CancellationError())
        }
    }

    /// Sleeps out the rest of the session's takeover delay (see ``LockSessionTiming``), in
    /// real time: it waits for another host, not for anything in this process.
    func waitUntilSafeToPoll() async throws {
        try await Task.sleep(until: pollableAt, clock: .continuous)
    }

    func release() async {
        guard end(.released) else { return }
        await session.release(self)
    }

    /// Marks the lock no longer ours and wakes whoever watches it; `false` if it already was.
    @discardableResult
    func end(_ reason: LockLossReason) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<LockLossReason, any Error>]? in
            guard state.ended == nil else { return nil }
            state.ended = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: reason) }
        return true
    }
}
