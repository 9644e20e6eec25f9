import Synchronization

/// How many more bots this host may poll: `max_bots`, so that hosts sharing a manifest
/// spread its bots instead of the first one taking them all.
///
/// A bot takes a slot before it tries its lock and gives it back when it lets the lock go.
final class BotSlots: Sendable {
    private let free: Mutex<Int?>

    /// - Parameter limit: the most bots at once; `nil` for no limit.
    init(limit: Int?) {
        free = Mutex(limit)
    }

    /// Takes a slot if one is free.
    func take() -> Bool {
        free.withLock { free in
            guard let count = free else { return true }
            guard count > 0 else { return false }
            free = count - 1
            return true
        }
    }

    func give() {
        free.withLock { free in free = free.map { $0 + 1 } }
    }
}
