import Synchronization

/// How many more bots this host may poll: `max_bots`, so that hosts sharing a manifest
/// spread its bots instead of the first one taking them all.
///
/// A bot takes a slot before it tries its lock and gives it back when it lets the lock go.
/// A standby adopting a bot whose holder died may go beyond the limit
/// (``takeBeyondLimit()``): spreading a fleet must not leave a bot unpolled while a host
/// that could poll it lives.
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

    /// Takes a slot even when none is free; the count goes below zero until given back.
    func takeBeyondLimit() {
        free.withLock { free in free = free.map { $0 - 1 } }
    }

    func give() {
        free.withLock { free in free = free.map { $0 + 1 } }
    }
}
