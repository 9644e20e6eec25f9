import Glibc

/// The process's limit of open file descriptors, raised at start from its soft value to
/// its hard one.
///
/// Every bot holds a lock file, its journal (an SQLite file with its `-wal` and `-shm`)
/// and an HTTP connection or two: a few hundred bots pass the soft limit of 1,024 that
/// systemd and most shells give, while the hard limit is far higher. Raising the soft limit
/// to the hard one at start is what Go's runtime does and systemd recommends
/// (`LimitNOFILE=` then sets the hard limit). A manifest that needs more than even the
/// hard limit is refused before anything starts (``problem(running:limit:)``).
enum OpenFileLimit {
    /// Descriptors the host needs besides its bots': event loops, the admin server, the
    /// sandbox, logs.
    static let hostDescriptors = 64

    /// Descriptors one bot needs, about: its lock file, its journal (an SQLite file, its
    /// `-wal` and `-shm`; with the postgres backend the journal's connections are shared),
    /// a long poll and an outgoing call.
    static func descriptors(perBot lock: LockSettings) -> Int {
        switch lock {
        case .file: 1 + 3 + 2
        case .postgres: 2
        }
    }

    /// Why `manifest` cannot run under `limit` open files, in one line, or `nil`.
    static func problem(running manifest: Manifest, limit: UInt64) -> String? {
        let needed = hostDescriptors + manifest.bots.count * descriptors(perBot: manifest.lock)
        guard UInt64(needed) > limit else { return nil }
        return "\(manifest.file): \(manifest.bots.count) bots need about \(needed) open files, and the limit is \(limit);"
            + " raise it (systemd: LimitNOFILE=\(needed * 2); a shell: ulimit -Hn \(needed * 2))"
    }

    /// The limit in force (the soft one).
    static var current: UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return .max }
        return UInt64(limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one; returns the limit now in force.
    @discardableResult
    static func raiseToHard() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
