import Glibc

/// Who holds `flock` locks on this machine, found without taking or testing any lock.
///
/// Testing a lock, even with `LOCK_SH`, would make a racing host's `LOCK_EX|LOCK_NB` fail,
/// so `status` only reads what the kernel publishes.
enum FlockHolders {
    /// The `flock` holders listed in `/proc/locks`, by locked file, with the holder's pid in
    /// this PID namespace (0 when the kernel cannot translate it); `nil` when the table cannot
    /// be read.
    ///
    /// The kernel leaves out holders outside this PID namespace (another container), so a
    /// missing entry does not prove a file free.
    static func fromProcLocks(path: String = "/proc/locks") -> [FileIdentity: Int32]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let table = String(decoding: readBytes(from: descriptor, limit: 64 * 1024 * 1024), as: UTF8.self)
        return parseProcLocks(table)
    }

    /// Parses lines such as `1: FLOCK  ADVISORY  WRITE 12217 fe:00:16220971 0 EOF`: the device
    /// as hexadecimal major:minor, the inode in decimal. Lines `2: -> FLOCK ...` are waiters,
    /// not holders; POSIX, OFD and lease locks are not what `FileTokenLock` takes.
    static func parseProcLocks(_ table: String) -> [FileIdentity: Int32] {
        var holders: [FileIdentity: Int32] = [:]
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            let device = fields[5].split(separator: ":")
            guard device.count == 3,
                let major = UInt64(device[0], radix: 16),
                let minor = UInt64(device[1], radix: 16),
                let inode = UInt64(device[2])
            else { continue }
            holders[FileIdentity(major: major, minor: minor, inode: inode)] = pid
        }
        return holders
    }

    /// Whether process `pid` (in this PID namespace) is seen to have `file` open: the
    /// fallback for a holder that `/proc/locks` hides. `false` also when that cannot be seen
    /// (no such process, or its descriptors are not readable by this user).
    static func process(_ pid: Int32, hasOpen file: FileIdentity) -> Bool {
        guard pid > 0 else { return false }
        let descriptors = "/proc/\(pid)/fd"
        guard let names = try? directoryEntries(atPath: descriptors) else { return false }
        return names.contains { name in
            FileStatus.of(path: "\(descriptors)/\(name)").map(FileIdentity.init) == file
        }
    }
}
