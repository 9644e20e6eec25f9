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

    /// Descriptors one bot needs, about, in the process that runs it: its journal (an
    /// SQLite file, its `-wal` and `-shm`; with the postgres backend the journal's
    /// connections are shared), a long poll or a webhook's calls, and an outgoing call.
    static func descriptors(perBot lock: LockSettings) -> Int {
        switch lock {
        case .file: 3 + 2
        case .postgres: 2
        }
    }

    /// The descriptors of the process that needs most: the host itself with `isolation:
    /// none`; else the supervisor (a lock file per bot with the file backend) or the
    /// busiest worker (its share of the shared bots, or an isolated bot alone). Measured
    /// with 1,000 webhook bots and two workers: the supervisor 1 per bot, each worker 4 per
    /// bot. A webhook listener's connections come on top in the supervisor: as many as
    /// Telegram opens, at most `max_connections` per bot.
    static func busiestProcess(of manifest: Manifest) -> Int {
        let lockFiles: Int
        switch manifest.lock {
        case .file: lockFiles = manifest.bots.count
        case .postgres: lockFiles = 0
        }
        let perBot = descriptors(perBot: manifest.lock)
        guard manifest.isolation.mode == .process else {
            return hostDescriptors + lockFiles + manifest.bots.count * perBot
        }
        let workers = max(1, manifest.isolation.workers)
        let shared = manifest.bots.filter { !$0.isolated }.count
        let busiestWorker = (shared + workers - 1) / workers * perBot
        return hostDescriptors + max(lockFiles, busiestWorker, perBot)
    }

    /// Why `manifest` cannot run under `limit` open files per process, in one line, or `nil`.
    static func problem(running manifest: Manifest, limit: UInt64) -> String? {
        let needed = busiestProcess(of: manifest)
        guard UInt64(needed) > limit else { return nil }
        return "\(manifest.file): \(manifest.bots.count) bots need about \(needed) open files in their busiest process,"
            + " and the limit is \(limit); raise it (systemd: LimitNOFILE=\(needed * 2); a shell: ulimit -Hn \(needed * 2))"
            + (manifest.isolation.mode == .process ? " or add workers (isolation.workers)" : "")
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
