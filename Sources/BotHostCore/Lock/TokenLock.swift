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
/// database connection dropped. A bot must stop polling as soon as `lost()` returns, or two
/// pollers may run at once.
package protocol HeldTokenLock: Sendable {
    var id: LockID { get }

    /// Waits until the lock is no longer ours and says why. Throws `CancellationError` when
    /// the calling task is cancelled, which is how a bot stops watching at shutdown.
    func lost() async throws -> LockLossReason

    /// Returns once this host may poll: when a previous holder may still be polling without
    /// knowing it lost the lock, not before that holder has certainly stopped. Throws
    /// `CancellationError` when the calling task is cancelled.
    func waitUntilSafeToPoll() async throws

    /// Gives the lock up. Calling it again does nothing.
    func release() async

    /// Whether the lock can be lost while held, so that its bot must watch ``lost()``.
    var canBeLost: Bool { get }
}

extension HeldTokenLock {
    package var canBeLost: Bool { true }

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

    /// Whether the bot should stand by and take its lock again. A lost database session is
    /// an outage that passes; a lock file removed or replaced by hand is not, and the bot fails.
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
        }
    }
}
