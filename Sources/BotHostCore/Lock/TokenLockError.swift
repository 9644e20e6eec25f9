import Glibc

/// Why a lock could not even be tried. A lock held by someone else is not an error
/// (`LockAttempt.heldElsewhere`).
///
/// Every message names the path and the problem, so an operator can fix it without
/// reading code.
package enum TokenLockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lock directory is not private to this user: a symlink, not a directory, owned by
    /// another user, or open to group or others. Anyone who can write there can plant a
    /// symlink or swap lock files and break mutual exclusion.
    case unsafeDirectory(path: String, problem: String)
    /// The lock path holds something other than a plain lock file (a symlink, a directory),
    /// or kept being replaced while it was being locked.
    case unsafeLockFile(path: String, problem: String)
    /// A system call failed for another reason.
    case systemCallFailed(call: String, path: String, errno: Int32)
    /// The lock database cannot be used: unreachable, refusing us, or behind a pooler
    /// that breaks session locks. `endpoint` is `host:port/database`, never the URL, which
    /// may carry a password.
    case database(endpoint: String, problem: String)

    package var description: String {
        switch self {
        case .unsafeDirectory(let path, let problem):
            "refusing lock directory \(path): \(problem)"
        case .unsafeLockFile(let path, let problem):
            "refusing lock file \(path): \(problem)"
        case .systemCallFailed(let call, let path, let code):
            "\(call) \(path): \(String(cString: strerror(code)))"
        case .database(let endpoint, let problem):
            "lock database \(endpoint): \(problem)"
        }
    }
}

extension TokenLockError {
    init(_ error: PrivateDirectoryError) {
        switch error {
        case .unsafe(let path, let problem): self = .unsafeDirectory(path: path, problem: problem)
        case .systemCallFailed(let call, let path, let code): self = .systemCallFailed(call: call, path: path, errno: code)
        }
    }
}
