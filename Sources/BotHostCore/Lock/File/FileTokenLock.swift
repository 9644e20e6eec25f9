import Glibc

/// `TokenLock` for hosts on one machine: `flock` on `<directory>/<lock id>.lock`.
///
/// Why `flock`: the kernel frees it when the holder dies, even by SIGKILL, so a crashed
/// host never leaves a stale lock; and it belongs to one open file description, so even
/// two opens in one process exclude each other (POSIX `fcntl` locks are per process, and
/// closing any descriptor of the file drops them).
///
/// The kernel lock is the truth. The JSON `LockOwner` written into the file is for people
/// and is never trusted: garbage, a dead pid or our own pid in the file changes nothing.
///
/// Lock files are never unlinked: unlinking on release races, as a waiter can lock the
/// unlinked inode while a newcomer locks a new file at the same path. For the same reason,
/// after locking, the descriptor must still be the file at the path, else the attempt starts
/// again; and a held lock keeps checking that (`HeldTokenLock.onLoss(_:)`).
package struct FileTokenLock: TokenLock {
    /// Where the lock files are; created with mode 0700 when missing, refused when not
    /// private to this user (see `LockDirectory`).
    package let directory: String
    /// How often a held lock checks that its file is still at its path when inotify cannot
    /// say when it changes (see ``LockFileWatcher``).
    package let recheckInterval: Duration

    /// How many times a lock file replaced under an attempt is opened again before giving up:
    /// one replacement is a race, several in a row mean something keeps swapping the files.
    static let maximumAttempts = 5
    /// The most read from a lock file to describe its holder: a record is about 120 bytes,
    /// and garbage must not cost more.
    static let recordReadLimit = 4096

    private let watcher: LockFileWatcher

    package init(directory: String, recheckInterval: Duration = .seconds(1)) {
        self.directory = directory
        self.recheckInterval = recheckInterval
        self.watcher = LockFileWatcher(directory: directory, interval: recheckInterval)
    }

    /// The path of the lock file for `id`.
    package func path(of id: LockID) -> String {
        PrivateDirectory(path: directory).filePath(Self.fileName(of: id))
    }

    static func fileName(of id: LockID) -> String { "\(id.hex).lock" }

    /// How long a claim that finds the lock held waits before its second and last try: a
    /// standby's look (``look(at:bot:)``) holds a shared lock for microseconds, and must not
    /// pass for a holder.
    static let claimRetryDelay = Duration.milliseconds(1)

    /// Every system call here returns at once (`LOCK_NB`).
    package func tryAcquire(_ id: LockID, owner: LockOwner) async throws(TokenLockError) -> LockAttempt {
        let lockDirectory = PrivateDirectory(path: directory)
        let directoryDescriptor: Int32
        do {
            directoryDescriptor = try lockDirectory.openVerified()
        } catch {
            throw TokenLockError(error)
        }
        defer { close(directoryDescriptor) }
        let lockFile = LockFile(
            name: Self.fileName(of: id), path: lockDirectory.filePath(Self.fileName(of: id)),
            directoryDescriptor: directoryDescriptor)
        for _ in 0..<Self.maximumAttempts {
            if let attempt = try await attempt(id, on: lockFile, owner: owner) { return attempt }
        }
        throw .unsafeLockFile(
            path: lockFile.path,
            problem: "it was replaced \(Self.maximumAttempts) times in a row while being locked")
    }

    /// A shared `flock` for as long as the look (microseconds): it excludes no other look,
    /// and a claim that meets it tries again (``claimRetryDelay``). Unlike reading
    /// `/proc/locks`, it also sees holders in another PID namespace. A file that does not
    /// exist yet is free; a symlink or anything that is not a regular file is refused.
    package func look(at id: LockID, bot: String) async throws(TokenLockError) -> LockSighting {
        let path = path(of: id)
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: return .free
            case ELOOP: throw .unsafeLockFile(path: path, problem: "it is a symlink")
            default: throw .systemCallFailed(call: "open", path: path, errno: errno)
            }
        }
        // Closing lets the shared lock go.
        defer { close(descriptor) }
        guard FileStatus.of(descriptor: descriptor)?.isRegularFile == true else {
            throw .unsafeLockFile(path: path, problem: "it is not a regular file")
        }
        while flock(descriptor, LOCK_SH | LOCK_NB) != 0 {
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return .held(LockOwner(record: readBytes(from: descriptor, limit: Self.recordReadLimit)))
            default: throw .systemCallFailed(call: "flock", path: path, errno: errno)
            }
        }
        return .free
    }

    /// One try: the answer, or `nil` when the file at the path changed under it.
    private func attempt(
        _ id: LockID, on lockFile: LockFile, owner: LockOwner
    ) async throws(TokenLockError) -> LockAttempt? {
        let descriptor = try lockFile.open()
        var handedOver = false
        defer { if !handedOver { close(descriptor) } }

        var locked = try lockFile.lockNonBlocking(descriptor)
        if !locked {
            try? await Task.sleep(for: Self.claimRetryDelay)
            locked = try lockFile.lockNonBlocking(descriptor)
        }
        guard let identity = try lockFile.identityIfStillAtPath(descriptor) else { return nil }
        guard locked else {
            return .heldElsewhere(LockOwner(record: readBytes(from: descriptor, limit: Self.recordReadLimit)))
        }
        try lockFile.write(owner, to: descriptor)
        handedOver = true
        return .acquired(
            HeldFileTokenLock(
                id: id, path: lockFile.path, descriptor: descriptor, identity: identity, watcher: watcher))
    }
}

/// The system calls on one lock file, each turning failures into messages that name it.
private struct LockFile {
    /// The name inside the lock directory.
    let name: String
    /// The full path, for messages and for the check that the path still names our file.
    let path: String
    /// The verified lock directory, so the file opened is in the directory that was checked.
    let directoryDescriptor: Int32

    /// Opens (creating 0600 if needed) the lock file; refuses a symlink or anything that is
    /// not a regular file. `O_NOFOLLOW` fails with `ELOOP` on a symlink, leaving its target
    /// untouched; `O_CLOEXEC` keeps spawned processes from inheriting, and so holding, the lock.
    func open() throws(TokenLockError) -> Int32 {
        let descriptor = openat(directoryDescriptor, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            switch errno {
            case ELOOP: throw .unsafeLockFile(path: path, problem: "it is a symlink")
            case EISDIR: throw .unsafeLockFile(path: path, problem: "it is a directory")
            default: throw .systemCallFailed(call: "open", path: path, errno: errno)
            }
        }
        guard FileStatus.of(descriptor: descriptor)?.isRegularFile == true else {
            close(descriptor)
            throw .unsafeLockFile(path: path, problem: "it is not a regular file")
        }
        return descriptor
    }

    /// `flock(LOCK_EX|LOCK_NB)`: `true` if now ours, `false` if someone else holds it.
    func lockNonBlocking(_ descriptor: Int32) throws(TokenLockError) -> Bool {
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return false
            default: throw .systemCallFailed(call: "flock", path: path, errno: errno)
            }
        }
    }

    /// The identity of the open file if it is still the one at `path`; `nil` if it was
    /// unlinked or replaced since it was opened, so locking it would exclude nobody. (The
    /// same device and inode at the path also means the file is still linked: `st_nlink > 0`.)
    func identityIfStillAtPath(_ descriptor: Int32) throws(TokenLockError) -> FileIdentity? {
        guard let opened = FileStatus.of(descriptor: descriptor) else {
            throw .systemCallFailed(call: "fstat", path: path, errno: errno)
        }
        guard let atPath = FileStatus.ofEntry(atPath: path) else {
            if errno == ENOENT { return nil }
            throw .systemCallFailed(call: "lstat", path: path, errno: errno)
        }
        let identity = FileIdentity(opened)
        guard FileIdentity(atPath) == identity else { return nil }
        return identity
    }

    /// Replaces the file's content with `owner`'s record, and its mode with 0600 (a file
    /// created under a strict umask, or by hand, may have another).
    func write(_ owner: LockOwner, to descriptor: Int32) throws(TokenLockError) {
        guard let info = FileStatus.of(descriptor: descriptor) else {
            throw .systemCallFailed(call: "fstat", path: path, errno: errno)
        }
        if info.st_mode & 0o7777 != 0o600 && fchmod(descriptor, 0o600) != 0 {
            throw .systemCallFailed(call: "fchmod", path: path, errno: errno)
        }
        guard ftruncate(descriptor, 0) == 0 else {
            throw .systemCallFailed(call: "ftruncate", path: path, errno: errno)
        }
        let record = owner.encodedRecord
        var written = 0
        while written < record.count {
            let count = record[written...].withUnsafeBytes { rest in
                pwrite(descriptor, rest.baseAddress, rest.count, off_t(written))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .systemCallFailed(call: "write", path: path, errno: errno) }
            written += count
        }
    }
}
