/// A per-bot mutual exclusion: at most one process polls a bot at a time, so Telegram
/// never answers a second poller with 409 Conflict.
///
/// Backends (lock files on this machine, PostgreSQL advisory locks across machines) only
/// know a `LockID` and who asks (`LockOwner`); a token secret never reaches them.
/// `tryAcquire` never waits for a holder to go: `on_locked` (fail, skip, wait) is the
/// host's policy, built on top by calling it again.
public protocol TokenLock: Sendable {
    /// Takes the lock if nobody holds it; otherwise answers `.heldElsewhere` with what the
    /// backend knows of the holder. Never blocks on a holder.
    func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt
}

/// The answer of `TokenLock.tryAcquire`.
public enum LockAttempt: Sendable {
    /// The lock is ours until released or lost.
    case acquired(any HeldTokenLock)
    /// Someone else holds the lock; the holder as it described itself, when that is readable.
    case heldElsewhere(LockOwner?)
}

/// A lock this process holds.
///
/// Holding can end without `release()`: a lock file removed or replaced by hand, a
/// database connection dropped. A bot must stop polling as soon as `lost()` returns, or two
/// pollers may run at once.
public protocol HeldTokenLock: Sendable {
    var id: LockID { get }

    /// Waits until the lock is no longer ours and says why. Throws `CancellationError` when
    /// the calling task is cancelled, which is how a bot stops watching at shutdown.
    func lost() async throws -> LockLossReason

    /// Gives the lock up. Calling it again does nothing.
    func release() async
}

/// Why a held lock stopped being ours.
public enum LockLossReason: Sendable, Hashable, CustomStringConvertible {
    /// `release()` was called.
    case released
    /// The lock file was unlinked: a newcomer creates a fresh file and locks it.
    case fileRemoved(path: String)
    /// Another file now sits at the lock path: a newcomer locks that one.
    case fileReplaced(path: String)

    public var description: String {
        switch self {
        case .released: "released"
        case .fileRemoved(let path): "lock file \(path) was removed"
        case .fileReplaced(let path): "lock file \(path) was replaced by another file"
        }
    }
}
