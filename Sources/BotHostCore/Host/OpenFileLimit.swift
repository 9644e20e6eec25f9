import Glibc

/// The process's limit of open file descriptors, raised at start from its soft value to
/// its hard one.
///
/// Every bot holds a lock file, its journal (an SQLite file with its `-wal` and `-shm`)
/// and an HTTP connection or two: a few hundred bots pass the soft limit of 1,024 that
/// systemd and most shells give, while the hard limit is far higher. Raising the soft limit
/// to the hard one at start is what Go's runtime does and systemd recommends
/// (`LimitNOFILE=` then sets the hard limit).
enum OpenFileLimit {
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
