import Foundation
public import Glibc
import Synchronization

/// A process started by a test or a benchmark, which never outlives it.
///
/// Foundation's `Process` crashed inside `run()` during a storm of starts, and the crash
/// left every host and PostgreSQL server the tests had started running (issue 22). So
/// every child is spawned here, with `posix_spawn`, and each one:
/// - leads a process group of its own, which ``terminate()`` (also run on `deinit`) kills
///   whole, grandchildren included;
/// - gets a parent-death signal: it is launched through `setpriv --pdeathsig` (util-linux),
///   which sets `PR_SET_PDEATHSIG` and execs the program under the same pid, since
///   `posix_spawn` offers no way to run code between fork and exec. The signal comes when
///   this process ends, even by a crash (see ``SpawningThread`` for why not earlier). A
///   process that ended before `setpriv` set the signal sends none, so a shell between
///   `setpriv` and the program exits instead of running it when its parent is gone already
///   (seen: a host spawned as the test crashed outlived it);
/// - reads `/dev/null`, writes to files and inherits no other descriptor: a daemon that
///   kept one of ours would keep, say, a pipe open for ever;
/// - starts with default signal handling and no blocked signals, whatever ours are.
///
/// The process stays a zombie after it exits, until ``terminate()`` reaps it: its id, which
/// is also its group's, cannot be reused meanwhile, so the group kill can hit nothing else.
public final class ChildProcess: Sendable {
    /// The process's id, which is also its process group's.
    public let pid: pid_t
    /// The exit status once ``terminate()`` has reaped the process.
    private let reapedStatus = Mutex<Int32?>(nil)

    /// Spawns `executable` with `arguments`.
    /// - Parameters:
    ///   - executable: the program's path, absolute or relative to the current directory.
    ///   - directory: the child's working directory; ours when `nil`.
    ///   - environment: variables added to ours, or replacing them.
    ///   - output: the file that standard output goes to, created or truncated.
    ///   - errors: the file that standard error goes to; `output` when `nil`.
    ///   - user: the user to run as (we must be root), since PostgreSQL refuses to run as root.
    ///   - deathSignal: the signal, by name, that the child gets when this process ends:
    ///     `KILL`, or one that lets it clean up, such as `QUIT` for PostgreSQL.
    public init(
        _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        output: String = "/dev/null", errors: String? = nil, user: String? = nil, deathSignal: String = "KILL"
    ) throws {
        let path = URL(fileURLWithPath: executable).path
        guard access(path, X_OK) == 0 else {
            throw ChildProcessError(description: "cannot run \(path): \(String(cString: strerror(errno)))")
        }
        var command = [Self.setpriv]
        if let user {
            guard let account = getpwnam(user) else { throw ChildProcessError(description: "no user \(user)") }
            command += ["--reuid", "\(account.pointee.pw_uid)", "--regid", "\(account.pointee.pw_gid)", "--init-groups"]
        }
        command += ["--pdeathsig", deathSignal, "--", "/bin/sh", "-c", Self.orphanCheck, "\(getpid())", path] + arguments
        let variables = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0)=\($1)" }
        let spawned = SpawningThread.shared.run { [command] in
            Self.spawn(command, environment: variables, directory: directory, output: output, errors: errors ?? output)
        }
        pid = try spawned.get()
    }

    deinit { terminate() }

    /// `setpriv`, which launches every child: util-linux, essential on Debian.
    private static let setpriv = "/usr/bin/setpriv"

    /// The shell script between `setpriv` and the program: runs the program (`$@`) only if
    /// the parent is still the process that spawned it (`$0`, our pid).
    private static let orphanCheck = #"[ "$PPID" = "$0" ] && exec "$@""#

    /// The exit code, or 128 + the signal that ended the process; `nil` while it runs.
    public var exitStatus: Int32? {
        reapedStatus.withLock { reaped in
            if let reaped { return reaped }
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._sigchld.si_pid == pid
            else { return nil }
            return Self.status(info)
        }
    }

    public var isRunning: Bool { exitStatus == nil }

    /// Sends `signal` to the process alone, not to its group.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the exit and returns ``exitStatus``; after `timeout` the group is killed.
    public func exitCode(timeout: Duration = .seconds(60)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus { return status }
            if ContinuousClock.now > deadline { kill(-pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Kills the whole process group with SIGKILL and reaps the process; does nothing the
    /// second time.
    public func terminate() {
        reapedStatus.withLock { reaped in
            guard reaped == nil else { return }
            kill(-pid, SIGKILL)
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED) != 0 && errno == EINTR {}
            reaped = Self.status(info)
        }
    }

    private static func status(_ info: siginfo_t) -> Int32 {
        let status = info._sifields._sigchld.si_status
        return info.si_code == CLD_EXITED ? status : 128 + status
    }

    /// Runs on the ``SpawningThread``.
    private static func spawn(
        _ command: [String], environment: [String], directory: String?, output: String, errors: String
    )
        -> Result<pid_t, ChildProcessError>
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if errors == output {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        _ = GNUFileActions.closeFrom(&actions, 3)
        if let directory { _ = GNUFileActions.changeDirectory(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for string in argv + envp { free(string) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard error == 0 else {
            return .failure(
                ChildProcessError(
                    description: "cannot spawn \(command.joined(separator: " ")): \(String(cString: strerror(error)))"))
        }
        return .success(pid)
    }
}

/// Why a child could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// glibc's GNU file actions (2.34 and 2.29), which Swift cannot see: it reads glibc's
/// headers without `_GNU_SOURCE`.
private enum GNUFileActions {
    static let closeFrom = unsafeBitCast(
        dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"),
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    static let changeDirectory = unsafeBitCast(
        dlsym(nil, "posix_spawn_file_actions_addchdir_np"),
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}
