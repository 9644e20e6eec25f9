import Glibc

extension FileTokenLock {
    /// The status of every lock file (`<32 hex digits>.lock`) in `directory`, by lock id; an
    /// empty list when the directory does not exist.
    ///
    /// Never takes, tests or otherwise disturbs a lock: a racing host's `LOCK_EX|LOCK_NB`
    /// must not fail because `status` looked. So "held" comes from what the kernel publishes:
    /// `/proc/locks`, or, for a holder that it hides (another PID namespace), the recorded
    /// pid being a live process here with the file open. No entry in `/proc/locks` means free
    /// only when the file's last holder ran on this host; otherwise the state is unknown.
    package static func statuses(directory: String) throws(TokenLockError) -> [LockStatus] {
        let lockDirectory = PrivateDirectory(path: directory)
        guard let names = try directoryEntries(atPath: lockDirectory.path) else { return [] }
        let kernelHolders = FlockHolders.fromProcLocks()
        let hostname = currentHostname()
        return names.compactMap { name -> LockStatus? in
            guard name.hasSuffix(".lock"), let id = LockID(hex: String(name.dropLast(".lock".count))) else {
                return nil
            }
            return status(
                of: id, at: lockDirectory.filePath(name), kernelHolders: kernelHolders, hostname: hostname)
        }.sorted { $0.id < $1.id }
    }

    /// The status of one lock file, given the kernel's table (`nil` when unreadable) and
    /// this host's name.
    static func status(
        of id: LockID, at path: String, kernelHolders: [FileIdentity: Int32]?, hostname: String
    ) -> LockStatus {
        guard let (file, owner) = readLockFile(at: path) else {
            return LockStatus(id: id, bot: nil, state: .unknown, pid: nil, since: nil, hostname: nil)
        }
        var status = LockStatus(
            id: id, bot: owner?.bot, state: .unknown, pid: owner?.pid, since: owner?.startedAt,
            hostname: owner?.hostname)
        if let kernelPID = kernelHolders?[file] {
            status.state = .held
            if kernelPID != 0 { status.pid = kernelPID }
        } else if let owner, FlockHolders.process(owner.pid, hasOpen: file) {
            status.state = .held
        } else if kernelHolders != nil && (owner == nil || owner?.hostname == hostname) {
            status.state = .free
            status.pid = nil
            status.since = nil
            status.hostname = nil
        }
        return status
    }

    /// The identity and recorded owner of the lock file at `path`, read and closed before
    /// anyone's open descriptors are inspected (our own would count); `nil` when it is not a
    /// regular file that can be opened. `O_NONBLOCK` keeps a FIFO planted there from hanging
    /// the open.
    private static func readLockFile(at path: String) -> (FileIdentity, LockOwner?)? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard let info = FileStatus.of(descriptor: descriptor), info.isRegularFile else { return nil }
        let owner = LockOwner(record: readBytes(from: descriptor, limit: recordReadLimit))
        return (FileIdentity(info), owner)
    }
}
