package import Foundation

/// One lock as `bothost status` reports it: a lock file, or a bot's advisory lock on PostgreSQL.
package struct LockStatus: Sendable, Hashable {
    package enum State: String, Sendable, Hashable {
        /// Some process holds the lock.
        case held
        /// Nobody holds the lock (for lock files: nobody on this machine).
        case free
        /// Whether someone holds it cannot be told from here: a lock file's last holder ran on
        /// another host or container, whose locks this PID namespace cannot see; or
        /// `/proc/locks` cannot be read; or the file is not a readable regular file.
        case unknown
    }

    package var id: LockID
    /// The bot: as named in a lock file (`nil` when it holds no readable record; kept when
    /// the lock is free, as it says whose lock file this is), or in the manifest.
    package var bot: String?
    package var state: State
    /// The holder's pid: for a lock file, the kernel's when `/proc/locks` lists it, else the
    /// recorded one (possibly from another PID namespace); on PostgreSQL, the pid the
    /// holding host announced on its session. `nil` when free.
    package var pid: Int32?
    /// When the holder took the lock, as it recorded; `nil` when free or not recorded
    /// (PostgreSQL keeps no time for a granted advisory lock).
    package var since: Date?
    /// Where the holder ran, as it recorded; `nil` when free.
    package var hostname: String?

    package init(id: LockID, bot: String?, state: State, pid: Int32?, since: Date?, hostname: String?) {
        self.id = id
        self.bot = bot
        self.state = state
        self.pid = pid
        self.since = since
        self.hostname = hostname
    }
}
