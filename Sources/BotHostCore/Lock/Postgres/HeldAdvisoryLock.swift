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
        /// What to call when the lock ends (``onLoss(_:)``), by watch.
        var watchers: [UInt64: @Sendable (LockLossReason) -> Void] = [:]
        var nextWatcher: UInt64 = 0
    }

    init(id: LockID, generation: UInt64, session: LockSession, takeoverDelay: Duration) {
        self.id = id
        self.generation = generation
        self.session = session
        self.pollableAt = .now + takeoverDelay
    }

    var key: Int64 { id.advisoryLockKey }

    func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
        let (watcher, ended) = state.withLock { state -> (UInt64, LockLossReason?) in
            guard state.ended == nil else { return (0, state.ended) }
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = action
            return (state.nextWatcher, nil)
        }
        if let ended {
            action(ended)
            return .ended
        }
        return LockLossWatch { [self] in _ = state.withLock { $0.watchers.removeValue(forKey: watcher) } }
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
        let watchers = state.withLock { state -> [@Sendable (LockLossReason) -> Void]? in
            guard state.ended == nil else { return nil }
            state.ended = reason
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        guard let watchers else { return false }
        for watcher in watchers { watcher(reason) }
        return true
    }
}
