/// The process exit codes of `bothost`, fixed by DESIGN.md's CLI contract.
public enum ExitStatus: Int32, Sendable {
    /// A clean stop, or a command that succeeded.
    case success = 0
    /// A bot failed (token rejected, retries used up, plugin did not start, ...).
    case botFailed = 1
    /// The manifest or the command line is wrong; nothing was started.
    case usage = 2
    /// A bot's lock is held by another process and `on_locked: fail`.
    case lockHeld = 3
    /// The update journals cannot be kept: `state_dir` is not private to this user or not
    /// writable. Nothing was started.
    case journalUnusable = 4
}
