import Glibc
import Synchronization

/// A lock file this process holds: the open descriptor carrying the `flock`.
///
/// The descriptor sits behind a mutex so that it is closed exactly once, whoever releases
/// first: a closed descriptor number is soon reused by another open, and closing it again
/// would close that. Dropping the last reference releases the lock too, so a forgotten
/// handle does not hold a bot for the life of the process.
final class HeldFileTokenLock: HeldTokenLock {
    let id: LockID
    let path: String
    /// The locked file, which must stay the one at `path`.
    private let identity: FileIdentity
    private let watcher: LockFileWatcher
    /// `nil` once released.
    private let descriptor: Mutex<Int32?>

    init(id: LockID, path: String, descriptor: Int32, identity: FileIdentity, watcher: LockFileWatcher) {
        self.id = id
        self.path = path
        self.identity = identity
        self.watcher = watcher
        self.descriptor = Mutex(descriptor)
    }

    deinit { closeDescriptor() }

    func onLoss(_ action: @escaping @Sendable (LockLossReason) -> Void) -> LockLossWatch {
        watcher.watch(FileTokenLock.fileName(of: id), check: { [self] in lossReason() }, onLoss: action)
    }

    func release() async {
        closeDescriptor()
        watcher.recheck(FileTokenLock.fileName(of: id))
    }

    /// Why the lock is no longer ours, or `nil` while it still is (or while that cannot be
    /// told, say the directory became unreadable: other hosts cannot reach the file either).
    private func lossReason() -> LockLossReason? {
        descriptor.withLock { descriptor -> LockLossReason? in
            guard descriptor != nil else { return .released }
            guard let atPath = FileStatus.ofEntry(atPath: path) else {
                return errno == ENOENT || errno == ENOTDIR ? .fileRemoved(path: path) : nil
            }
            return FileIdentity(atPath) == identity ? nil : .fileReplaced(path: path)
        }
    }

    /// Unlocks explicitly before closing: a process spawned without `O_CLOEXEC` taking
    /// effect (a plain `fork`) shares the open file description, and closing alone would leave
    /// it holding the lock.
    private func closeDescriptor() {
        descriptor.withLock { descriptor in
            guard let open = descriptor else { return }
            flock(open, LOCK_UN)
            close(open)
            descriptor = nil
        }
    }
}
