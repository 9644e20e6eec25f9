#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum LockKey: String, ManifestKey {
    case backend
    case dir
    case url
    case passwordFile = "password_file"
}

enum LockBackend: String, CaseIterable {
    case file
    case postgres
}

extension LockSettings {
    /// Where lock files go when the manifest names no `lock.dir`: `$XDG_RUNTIME_DIR/bothost`
    /// (private to the user, emptied at logout), else `/tmp/bothost-<uid>`.
    package static func defaultFileDirectory(environment: [String: String]) -> String {
        if let runtimeDirectory = environment["XDG_RUNTIME_DIR"], !runtimeDirectory.isEmpty {
            return "\(runtimeDirectory)/bothost"
        }
        return "/tmp/bothost-\(getuid())"
    }
}

/// `lock: { backend, dir, url, password_file }`.
extension ManifestLoader {
    /// File locks in the default directory: the lock of a manifest without `lock:`.
    var defaultLock: LockSettings {
        .file(directory: LockSettings.defaultFileDirectory(environment: environment))
    }

    /// The backend each backend-specific key belongs to.
    private static let backendOfKey: [LockKey: LockBackend] = [.dir: .file, .url: .postgres, .passwordFile: .postgres]

    /// A key that belongs to the other backend is an error rather than ignored: an
    /// operator who sets `url` but forgets `backend: postgres` would otherwise get file
    /// locks, and two hosts would poll the same bots.
    func lockSettings(_ value: ManifestNode) -> LockSettings {
        guard let fields = reader.fields(of: value, as: LockKey.self) else { return defaultLock }
        let backend: LockBackend? = fields[.backend].map { reader.choice($0, of: LockBackend.self) } ?? .file
        if let backend {
            for (key, owner) in Self.backendOfKey where owner != backend {
                if let misplaced = fields[key] {
                    reader.report("applies only to backend: \(owner.rawValue)", at: misplaced)
                }
            }
        }

        switch backend {
        case .file:
            let directory = fields[.dir].flatMap(path)
            return directory.map { .file(directory: $0) } ?? defaultLock
        case .postgres:
            let passwordFile = fields[.passwordFile].flatMap(path)
            guard let urlNode = fields[.url] else {
                reader.reportMissing(LockKey.url, in: value)
                return defaultLock
            }
            guard let url = reader.string(urlNode) else { return defaultLock }
            do {
                try LockDatabase.check(url: url)
            } catch {
                reader.report(error.description, at: urlNode)
                return defaultLock
            }
            return .postgres(url: url, passwordFile: passwordFile)
        case nil:
            return defaultLock
        }
    }

    /// A non-empty path, resolved against the manifest's directory.
    func path(_ value: ManifestNode) -> String? {
        guard let text = reader.string(value) else { return nil }
        guard !text.isEmpty else {
            reader.report("expected a path, found an empty string", at: value)
            return nil
        }
        return resolvePath(text)
    }
}
