import Glibc

/// A directory trusted only while it is private to this user: the lock directory and
/// `state_dir`.
///
/// `fs.protected_symlinks` cannot be relied on (it is 0 in containers): a directory others
/// can write to lets them plant a symlink at a file's path, so opening the file would write
/// into the symlink's target, or swap files (two hosts would lock different inodes, a host
/// would read another's journal). So the directory must be a real directory (not a
/// symlink), owned by the effective user, with mode 0700.
struct PrivateDirectory {
    /// The path without trailing slashes: with one, `O_NOFOLLOW` would follow a symlink.
    let path: String

    init(path: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.path = String(trimmed)
    }

    func filePath(_ name: String) -> String {
        path == "/" ? "/" + name : path + "/" + name
    }

    /// A descriptor of the verified directory, which the caller closes; creates the directory
    /// (and missing parents) with mode 0700 first when it does not exist.
    ///
    /// Files opened relative to this descriptor land in the very directory that was
    /// checked even if the path is swapped meanwhile.
    func openVerified() throws(PrivateDirectoryError) -> Int32 {
        var created = false
        if FileStatus.ofEntry(atPath: path) == nil {
            guard errno == ENOENT else { throw .systemCallFailed(call: "lstat", path: path, errno: errno) }
            created = try createWithParents()
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            guard errno == ELOOP || errno == ENOTDIR else {
                throw .systemCallFailed(call: "open", path: path, errno: errno)
            }
            throw .unsafe(path: path, problem: notADirectoryProblem())
        }
        do throws(PrivateDirectoryError) {
            // mkdir applies the umask; a umask such as 0277 would leave the directory unusable.
            if created && fchmod(descriptor, 0o700) != 0 {
                throw .systemCallFailed(call: "fchmod", path: path, errno: errno)
            }
            try verify(descriptor)
            return descriptor
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// Why `O_DIRECTORY | O_NOFOLLOW` refused the path, which both a symlink and a file get.
    private func notADirectoryProblem() -> String {
        let isSymlink = FileStatus.ofEntry(atPath: path)?.isSymbolicLink == true
        return isSymlink ? "it is a symlink; use the real directory" : "it is not a directory"
    }

    private func verify(_ descriptor: Int32) throws(PrivateDirectoryError) {
        guard let info = FileStatus.of(descriptor: descriptor) else {
            throw .systemCallFailed(call: "fstat", path: path, errno: errno)
        }
        let user = geteuid()
        guard info.st_uid == user else {
            throw .unsafe(
                path: path, problem: "it is owned by uid \(info.st_uid), not by this user (uid \(user))")
        }
        guard info.permissions == 0o700 else {
            let mode = String(info.permissions, radix: 8)
            throw .unsafe(
                path: path,
                problem:
                    "its mode is 0\(mode); it must be 0700 so that no other user can plant or swap files in it"
                    + " (chmod 700 \(path))")
        }
    }

    /// Creates the missing directories along `path`, each with mode 0700, like `mkdir -p`;
    /// `true` if this call created the last one (and not a racing process).
    private func createWithParents() throws(PrivateDirectoryError) -> Bool {
        var prefix = path.hasPrefix("/") ? "" : "."
        var createdLast = false
        for component in path.split(separator: "/") {
            prefix += "/" + component
            createdLast = mkdir(prefix, 0o700) == 0
            guard createdLast || errno == EEXIST else {
                throw .systemCallFailed(call: "mkdir", path: prefix, errno: errno)
            }
        }
        return createdLast
    }
}

/// Why a ``PrivateDirectory`` was refused or could not be opened.
enum PrivateDirectoryError: Error {
    /// A symlink, not a directory, owned by another user, or open to group or others.
    case unsafe(path: String, problem: String)
    case systemCallFailed(call: String, path: String, errno: Int32)
}
