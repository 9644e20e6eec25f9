import Glibc

/// Which file an open descriptor or a path refers to: the same device and inode are the
/// same file, whatever path or descriptor reached it.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    init(major: UInt64, minor: UInt64, inode: UInt64) {
        // glibc's encoding of dev_t (the `makedev` macro, which Swift cannot import).
        device = (major & 0xfff) << 8 | (major & ~0xfff) << 32 | (minor & 0xff) | (minor & ~0xff) << 12
        self.inode = inode
    }
}

/// What `fstat`, `stat` or `lstat` reports of a file, or `nil` with `errno` set.
///
/// Read into a buffer of its own rather than through `stat()`: which C module owns that
/// zero initializer differs from one compiler job to the next (Glibc, or CDispatch when a
/// file of the same job loaded Foundation first), and MemberImportVisibility refused it
/// once in a clean CI build.
enum FileStatus {
    /// `fstat`: the file `descriptor` is open on.
    static func of(descriptor: Int32) -> stat? { status { fstat(descriptor, $0) } }

    /// `stat`: the file at `path`, through symlinks.
    static func of(path: String) -> stat? { status { stat(path, $0) } }

    /// `lstat`: what is at `path` itself, a symlink as a symlink.
    static func ofEntry(atPath path: String) -> stat? { status { lstat(path, $0) } }

    private static func status(_ call: (UnsafeMutablePointer<stat>) -> Int32) -> stat? {
        withUnsafeTemporaryAllocation(of: stat.self, capacity: 1) { buffer in
            call(buffer.baseAddress!) == 0 ? buffer[0] : nil
        }
    }
}

extension stat {
    var isRegularFile: Bool { st_mode & S_IFMT == S_IFREG }
    var isDirectory: Bool { st_mode & S_IFMT == S_IFDIR }
    var isSymbolicLink: Bool { st_mode & S_IFMT == S_IFLNK }
    /// The rwx bits for owner, group and others.
    var permissions: mode_t { st_mode & 0o777 }
}

/// The name this machine (or container) goes by, as lock owners record it.
func currentHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    let name = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: name, as: UTF8.self)
}

/// Reads from `descriptor` until end of file or `limit` bytes, whichever comes first; on a
/// read error, what was read so far. A bounded read keeps a huge or endless file (a 10 MB
/// garbage lock file, a device) from costing more than `limit`.
func readBytes(from descriptor: Int32, limit: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: min(limit, 64 * 1024))
    while bytes.count < limit {
        let wanted = min(chunk.count, limit - bytes.count)
        let count = read(descriptor, &chunk, wanted)
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += chunk[..<count]
    }
    return bytes
}

/// The names in a directory (without `.` and `..`), or `nil` if it does not exist.
func directoryEntries(atPath path: String) throws(TokenLockError) -> [String]? {
    guard let directory = opendir(path) else {
        if errno == ENOENT { return nil }
        throw .systemCallFailed(call: "opendir", path: path, errno: errno)
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
