import Synchronization

/// The lock backend of a worker process: the supervisor holds every lock, and gives a
/// worker only bots whose locks it holds, so taking a lock here is finding it assigned.
///
/// A worker never holds a lock of its own. One that crashes must not free its bots for
/// another host while the supervisor restarts it, and only the supervisor, which outlives
/// its workers, can keep that promise. When the supervisor loses a lock it takes the bot
/// away with a new ``WorkerAssignment`` that says so (``lose(_:)``), and the lock is lost here too
/// (``LockLossReason/takenAway``): the bot stops as a bot whose lock was lost does, without
/// a last poll to confirm its offset, which could end the new holder's poll with a 409.
package final class DelegatedTokenLock: TokenLock {
    private struct State {
        var assigned: Set<LockID> = []
        /// Locks the supervisor lost, until it assigns them again.
        var lost: Set<LockID> = []
        /// The loss watches of the held locks, by lock and watch number.
        var watches: [LockID: [UInt64: @Sendable (LockLossReason) -> Void]] = [:]
        var nextWatch: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The locks the supervisor holds for this worker from now on.
    package func assign(_ locks: Set<LockID>) {
        state.withLock { state in
            state.assigned = locks
            state.lost.subtract(locks)
        }
    }

    /// Locks the supervisor lost: their watches are told, and so is a watch set up later.
    package func lose(_ locks: Set<LockID>) {
        let told = state.withLock { state in
            state.lost.formUnion(locks)
            return locks.flatMap { state.watches.removeValue(forKey: $0).map { Array($0.values) } ?? [] }
        }
        for action in told { action(.takenAway) }
    }

    package func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt {
        state.withLock { $0.assigned.contains(id) } ? .acquired(Delegated(id: id, backend: self)) : .heldElsewhere(nil)
    }

    /// Free when assigned: a worker can only take what the supervisor holds for it.
    package func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting {
        state.withLock { $0.assigned.contains(id) } ? .free : .held(nil)
    }

    fileprivate func watch(_ id: LockID, _ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
        let number = state.withLock { state -> UInt64? in
            guard !state.lost.contains(id) else { return nil }
            defer { state.nextWatch += 1 }
            state.watches[id, default: [:]][state.nextWatch] = action
            return state.nextWatch
        }
        guard let number else {
            action(.takenAway)
            return .ended
        }
        return LockLossWatch { [self] in
            state.withLock { state in
                state.watches[id]?[number] = nil
                if state.watches[id]?.isEmpty == true { state.watches[id] = nil }
            }
        }
    }

    /// A lock the supervisor holds for this worker.
    fileprivate struct Delegated: HeldTokenLock {
        let id: LockID
        let backend: DelegatedTokenLock

        /// Lost when the supervisor says so in an assignment.
        func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
            backend.watch(id, action)
        }

        /// The supervisor releases the lock once the bot has ended in its worker.
        func release() async {}
    }
}

extension HeldTokenLock {
    /// Whether the supervisor holds this lock for a worker, and so takes, loses and
    /// releases it (and says so in the log).
    var isDelegated: Bool { self is DelegatedTokenLock.Delegated }
}
