import Synchronization

/// The lock backend of a worker process: the supervisor holds every lock, and gives a
/// worker only bots whose locks it holds, so taking a lock here is finding it assigned.
///
/// A worker never holds a lock of its own. One that crashes must not free its bots for
/// another host while the supervisor restarts it, and only the supervisor, which outlives
/// its workers, can keep that promise. When the supervisor loses a lock it takes the bot
/// away with a new ``WorkerAssignment``.
package final class DelegatedTokenLock: TokenLock {
    private let assigned = Mutex<Set<LockID>>([])

    package init() {}

    /// The locks the supervisor holds for this worker from now on.
    package func assign(_ locks: Set<LockID>) {
        assigned.withLock { $0 = locks }
    }

    package func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt {
        assigned.withLock { $0.contains(id) } ? .acquired(Delegated(id: id)) : .heldElsewhere(nil)
    }

    /// Free when assigned: a worker can only take what the supervisor holds for it.
    package func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting {
        assigned.withLock { $0.contains(id) } ? .free : .held(nil)
    }

    /// A lock the supervisor holds for this worker.
    fileprivate struct Delegated: HeldTokenLock {
        let id: LockID

        /// Never lost here: the supervisor takes the bot away instead.
        func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
            .ended
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
