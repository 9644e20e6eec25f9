import Dispatch
import Glibc
import Synchronization

/// Rechecks the lock files held through one ``FileTokenLock``: a file at once when inotify
/// says its name was removed or renamed in the lock directory, and every file each sweep.
///
/// A host with ten thousand bots that `lstat`ed every lock file every second spent 2.7% of
/// a core on it while idle. inotify reports the changes that end a lock (the file
/// removed, renamed away, or replaced by a rename onto its name) as they happen and costs
/// nothing meanwhile; the sweep, every 30 s while inotify works (`interval` when it does
/// not: no instance left, a file system without it), catches what it cannot see, such as a
/// directory above the lock directory renamed. One task sweeps for all locks, so an idle
/// host stays idle.
final class LockFileWatcher: Sendable {
    typealias Check = @Sendable () -> LockLossReason?

    private struct Watch {
        /// The lock file's name in the directory.
        var name: String
        var check: Check
        var onLoss: @Sendable (LockLossReason) -> Void
    }

    private struct State {
        var watches: [UInt64: Watch] = [:]
        /// The ids of ``watches`` by file name, so that a change to one file checks only its
        /// locks, not every lock of the host.
        var named: [String: Set<UInt64>] = [:]
        var nextID: UInt64 = 0

        mutating func add(_ watch: Watch, id: UInt64) {
            watches[id] = watch
            named[watch.name, default: []].insert(id)
        }

        mutating func remove(_ id: UInt64) -> Watch? {
            guard let watch = watches.removeValue(forKey: id) else { return nil }
            named[watch.name]?.remove(id)
            if named[watch.name]?.isEmpty == true { named[watch.name] = nil }
            return watch
        }
        var sweeper: Task<Void, Never>?
        var notifications: (any DispatchSourceRead)?

        /// Stops the sweeps and inotify once no lock is watched.
        mutating func stopIfUnused() {
            guard watches.isEmpty else { return }
            sweeper?.cancel()
            sweeper = nil
            notifications?.cancel()
            notifications = nil
        }
    }

    private let directory: String
    private let interval: Duration
    private let state = Mutex(State())

    /// The longest between two sweeps while inotify reports the directory's changes.
    static let sweepIntervalWithNotifications = Duration.seconds(30)

    /// Watches lock files in `directory`, sweeping every `interval` when inotify is not there.
    init(directory: String, interval: Duration) {
        self.directory = directory
        self.interval = interval
    }

    /// Calls `onLoss` with the first loss `check` reports for the lock file `name` (at once
    /// if it reports one now), unless the returned watch is cancelled first.
    func watch(
        _ name: String, check: @escaping Check, onLoss: @escaping @Sendable (LockLossReason) -> Void
    ) -> LockLossWatch {
        if let reason = check() {
            onLoss(reason)
            return .ended
        }
        let id = state.withLock { state in
            state.nextID += 1
            state.add(Watch(name: name, check: check, onLoss: onLoss), id: state.nextID)
            // Owned by the watcher: both end once no lock is watched.
            if state.sweeper == nil {
                state.notifications = notifications()
                let every = state.notifications == nil ? interval : max(interval, Self.sweepIntervalWithNotifications)
                state.sweeper = Task { await self.sweep(every: every) }
            }
            return state.nextID
        }
        // A change between the first check and inotify's watch would go unseen.
        recheck(name)
        return LockLossWatch { [self] in
            state.withLock { state in
                _ = state.remove(id)
                state.stopIfUnused()
            }
        }
    }

    /// Checks the locks of the file `name` now: one was released.
    func recheck(_ name: String) {
        check([name])
    }

    /// Checks every watch each `interval` while there are any.
    private func sweep(every interval: Duration) async {
        while true {
            guard (try? await Task.sleep(for: interval)) != nil, check(nil) else { return }
        }
    }

    /// Checks the watches of the files `names` (every watch for `nil`), ends those whose lock
    /// was lost, and stops watching the directory once none is left. `false` when none is left.
    @discardableResult
    private func check(_ names: Set<String>?) -> Bool {
        let watches = state.withLock { state -> [(UInt64, Watch)] in
            guard let names else { return state.watches.map { ($0.key, $0.value) } }
            return names.flatMap { state.named[$0] ?? [] }.compactMap { id in state.watches[id].map { (id, $0) } }
        }
        let lost = watches.compactMap { id, watch in watch.check().map { (id, $0) } }
        let (ended, watching) = state.withLock { state in
            let ended = lost.compactMap { id, reason in state.remove(id).map { ($0, reason) } }
            state.stopIfUnused()
            return (ended, !state.watches.isEmpty)
        }
        for (watch, reason) in ended { watch.onLoss(reason) }
        return watching
    }

    /// An inotify source on the directory that checks the locks whose names its events
    /// carry (all of them when events were lost or the directory itself went), or `nil`
    /// when inotify cannot watch it.
    private func notifications() -> (any DispatchSourceRead)? {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        let events = IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
        guard inotify_add_watch(descriptor, directory, UInt32(events)) >= 0 else {
            close(descriptor)
            return nil
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            let names = Self.readNames(from: descriptor)
            if names?.isEmpty != true { check(names) }
        }
        source.setCancelHandler { close(descriptor) }
        source.activate()
        return source
    }

    /// The file names of the inotify events waiting on `descriptor`, or `nil` when every
    /// lock must be checked: the queue overflowed, or the directory was removed or moved.
    private static func readNames(from descriptor: Int32) -> Set<String>? {
        var names: Set<String> = []
        let everything = withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 8) { buffer in
            var everything = false
            while case let count = read(descriptor, buffer.baseAddress, buffer.count), count > 0 {
                // Each event: wd (Int32), mask, cookie, len (UInt32 each), then `len` bytes of
                // the name, NUL-padded.
                var offset = 0
                while offset + 16 <= count {
                    let mask = buffer.load(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(buffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                    if mask & UInt32(IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                        everything = true
                    } else if length > 0 {
                        let name = UnsafeRawBufferPointer(rebasing: buffer[(offset + 16)..<(offset + 16 + length)])
                        names.insert(String(decoding: name.prefix { $0 != 0 }, as: UTF8.self))
                    }
                    offset += 16 + length
                }
            }
            return everything
        }
        return everything ? nil : names
    }
}
