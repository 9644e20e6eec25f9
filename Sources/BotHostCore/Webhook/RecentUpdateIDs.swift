import DequeModule

/// The `update_id`s a webhook bot committed last, to recognise a delivery Telegram repeats
/// (its answer was lost, or came after Telegram's timeout) without asking the journal.
///
/// Telegram repeats a delivery only while it has not had a 200, and it has at most
/// `max_connections` (100 at most) deliveries of a bot under way, so the last
/// ``capacity`` ids cover every repeat; the window is seeded from the journal when the bot
/// starts, which covers the repeats of a delivery whose answer a crash cut off. A state
/// machine without I/O: ``WebhookIntake`` claims an id before its journal write and then
/// commits or releases it.
struct RecentUpdateIDs {
    /// How many committed ids are kept.
    static let capacity = 1_000

    private var order: Deque<Int64> = []
    private var committed: Set<Int64> = []
    /// Ids whose journal write is under way.
    private var writing: Set<Int64> = []

    init(seed: [Int64] = []) {
        for id in seed.suffix(Self.capacity) { remember(id) }
    }

    enum Claim: Equatable {
        /// New: write it, then ``commit(_:)`` or ``release(_:)``.
        case new
        /// Already committed.
        case committed
        /// Another delivery of it is being written now.
        case writing
    }

    mutating func claim(_ id: Int64) -> Claim {
        if committed.contains(id) { return .committed }
        guard writing.insert(id).inserted else { return .writing }
        return .new
    }

    mutating func commit(_ id: Int64) {
        writing.remove(id)
        remember(id)
    }

    mutating func release(_ id: Int64) {
        writing.remove(id)
    }

    private mutating func remember(_ id: Int64) {
        guard committed.insert(id).inserted else { return }
        order.append(id)
        if order.count > Self.capacity { committed.remove(order.removeFirst()) }
    }
}
