import Synchronization

/// A per-bot mutual exclusion: at most one process polls a bot at a time, so Telegram
/// never answers a second poller with 409 Conflict.
///
/// Backends (lock files on this machine, PostgreSQL advisory locks across machines) only
/// know a `LockID` and who asks (`LockOwner`); a token secret never reaches them.
/// `tryAcquire` never waits for a holder to go: `on_locked` (fail, skip, wait) is the
/// host's policy, built on top by calling it again.
package protocol TokenLock: Sendable {
    /// Takes the lock if nobody holds it; otherwise answers `.heldElsewhere` with what the
    /// backend knows of the holder. Never blocks on a holder.
    func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt

    /// Whether someone holds the lock, without taking it: how a standby over `max_bots`
    /// watches a bot it may not poll. A look is never seen as a holder, by a look or by a
    /// `tryAcquire`. `bot` names the holder for a backend that cannot tell whose lock it is.
    func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting

    /// Lets go of what the backend keeps open (a database connection) once every lock is
    /// released; the host calls it last.
    func shutdown() async
}

extension TokenLock {
    package func shutdown() async {}
}

/// The answer of `TokenLock.tryAcquire`.
package enum LockAttempt: Sendable {
    /// The lock is ours until released or lost.
    case acquired(any HeldTokenLock)
    /// Someone else holds the lock; the holder as it described itself, when that is readable.
    case heldElsewhere(LockOwner?)
}

/// What ``TokenLock/look(at:bot:)`` saw.
package enum LockSighting: Sendable, Equatable {
    /// Nobody holds the lock.
    case free
    /// Someone holds the lock; the holder as it described itself, when that is readable.
    case held(LockOwner?)
}

/// A lock this process holds.
///
/// Holding can end without `release()`: a lock file removed or replaced by hand, a
/// database connection dropped. A bot must stop polling as soon as it learns of the loss
/// (``onLoss(_:)``, ``lost()``), or two pollers may run at once.
package protocol HeldTokenLock: Sendable {
    var id: LockID { get }

    /// Calls `action` once with the reason when the lock stops being ours (at once, before
    /// returning, if it already has), unless the returned watch is cancelled first. `action`
    /// runs on whichever thread noticed the loss and must not block.
    ///
    /// A callback rather than only ``lost()``: a supervisor watches the lock of each of
    /// thousands of bots for the bot's whole life, and a task waiting in ``lost()`` for
    /// each cost a few KiB a bot.
    func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch

    /// Returns once this host may poll: when a previous holder may still be polling without
    /// knowing it lost the lock, not before that holder has certainly stopped. Throws
    /// `CancellationError` when the calling task is cancelled.
    func waitUntilSafeToPoll() async throws

    /// Gives the lock up. Calling it again does nothing.
    func release() async
}

extension HeldTokenLock {
    /// Waits until the lock is no longer ours and says why. Throws `CancellationError` when
    /// the calling task is cancelled, which is how a bot stops watching at shutdown.
    package func lost() async throws -> LockLossReason {
        let waiter = LossWaiter()
        let watch = onLoss { reason in waiter.report(reason) }
        defer { watch.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in waiter.wait(with: continuation) }
        } onCancel: {
            waiter.cancel()
        }
    }

    /// A lock that nobody can lose without knowing it (a kernel `flock` freed only by its
    /// holder's exit) is safe to poll at once.
    package func waitUntilSafeToPoll() async throws {}
}

/// Why a held lock stopped being ours.
package enum LockLossReason: Sendable, Hashable, CustomStringConvertible {
    /// `release()` was called.
    case released
    /// The lock file was unlinked: a newcomer creates a fresh file and locks it.
    case fileRemoved(path: String)
    /// Another file now sits at the lock path: a newcomer locks that one.
    case fileReplaced(path: String)
    /// The database session that carried the lock ended or stopped answering, so the
    /// server frees (or has freed) the lock for another host.
    case sessionEnded(String)
    /// The supervisor lost the lock and took the bot away from this worker process.
    case takenAway

    /// Whether the bot should stand by and take its lock again. A lost database session is
    /// an outage that passes; a lock file removed or replaced by hand is not, and the bot
    /// fails. A worker's bot whose lock was taken away stops: the supervisor decides.
    package var canBeRetaken: Bool {
        if case .sessionEnded = self { return true }
        return false
    }

    package var description: String {
        switch self {
        case .released: "released"
        case .fileRemoved(let path): "lock file \(path) was removed"
        case .fileReplaced(let path): "lock file \(path) was replaced by another file"
        case .sessionEnded(let problem): "the lock database session ended: \(problem)"
        case .takenAway: "the supervisor lost it and took the bot away"
        }
    }
}

/// A watch set up by ``HeldTokenLock/onLoss(_:)``.
package struct LockLossWatch: Sendable {
    private let end: @Sendable () -> Void

    /// A watch that `end` cancels.
    package init(cancel end: @escaping @Sendable () -> Void) {
        self.end = end
    }

    /// A watch with nothing left to cancel: the loss was reported already, or cannot come.
    package static let ended = LockLossWatch {}

    /// Ends the watch: its action is not called after this returns, unless the loss was
    /// being reported at that moment, when it may still run once.
    package func cancel() {
        end()
    }
}

/// The loss that ``HeldTokenLock/lost()`` waits for, reported before or after it waits.
private final class LossWaiter: Sendable {
    private struct State {
        var outcome: Result<LockLossReason, any Error>?
        var continuation: CheckedContinuation<LockLossReason, any Error>?
    }

    private let state = Mutex(State())

    func wait(with continuation: CheckedContinuation<LockLossReason, any Error>) {
        let outcome = state.withLock { state -> Result<LockLossReason, any Error>? in
            if state.outcome == nil, Task.isCancelled { state.outcome = .failure(CancellationError()) }
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        if let outcome { continuation.resume(with: outcome) }
    }

    func report(_ reason: LockLossReason) {
        settle(.success(reason))
    }

    func cancel() {
        settle(.failure(CancellationError()))
    }

    private func settle(_ outcome: Result<LockLossReason, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<LockLossReason, any Error>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: outcome)
    }
}
