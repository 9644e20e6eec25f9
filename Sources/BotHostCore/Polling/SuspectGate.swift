import Synchronization

/// Lets one update at a time run, host-wide, of those that were running when the process
/// died (the suspects: one of them may have killed it), and only once the process's other
/// bots have caught up.
///
/// Each bot tries its suspects alone (``UpdateDispatcher/enqueue(_:isolated:)``); the gate
/// keeps suspects of different bots from running at once too, so the next crash is charged
/// to the update that caused it, not to another bot's hung chat that ran beside it. The
/// suspect tried the fewest times goes first (``SuspectOrder``): an update that was merely
/// in flight beside a poison update gets its try before the poison update's next one.
///
/// Why the catch-up: a poison update crashes its process at every try, and the process is
/// restarted at once, so without it the bots that share the process would be down for
/// `max_attempts` restarts in a row. The gate stays shut until every bot launched with the
/// process (``catchingUp(_:)``) has handled what its first poll brought (``caughtUp(_:)``),
/// or for ``catchUpLimit`` at most, so each of them answers between two crashes. A bot
/// whose own suspect waits at the gate cannot catch up meanwhile and is not waited for;
/// once its suspects are done, it is, so that what queued behind them is handled before
/// the next suspect may crash the process.
final class SuspectGate: Sendable {
    /// The longest that suspects wait for the other bots to catch up (a bot whose polls
    /// keep failing never does), counted from the first suspect's arrival.
    let catchUpLimit: Duration

    private struct Waiter {
        let bot: String
        let order: SuspectOrder
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        /// The bot whose suspect runs now.
        var running: String?
        /// Ordered by arrival; the first in ``SuspectOrder`` goes next.
        var waiters: [Waiter] = []
        /// The bots launched with the process that have not caught up yet.
        var catchingUp: Set<String> = []
        /// Whether the catch-up is over: every bot caught up, or the limit passed.
        var catchUpOver = false
        var limitStarted = false

        /// Whether no bot that could catch up is still doing so.
        var othersCaughtUp: Bool {
            catchUpOver || catchingUp.allSatisfy { bot in waiters.contains { $0.bot == bot } }
        }

        /// Takes the next waiter to let in, if the gate may open, and marks its bot running.
        mutating func admitNext() -> CheckedContinuation<Void, Never>? {
            guard running == nil, othersCaughtUp,
                let next = waiters.indices.min(by: { waiters[$0].order < waiters[$1].order })
            else { return nil }
            let waiter = waiters.remove(at: next)
            running = waiter.bot
            return waiter.continuation
        }
    }

    private let state = Mutex(State())

    /// Suspects waiting to run.
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    init(catchUpLimit: Duration = .seconds(2)) {
        self.catchUpLimit = catchUpLimit
    }

    /// Holds suspects back until `bot`, launched with the process, has caught up. Ignored
    /// once the catch-up is over (every bot caught up, or a suspect waited out the limit):
    /// bots started later (a reload) are not waited for.
    func catchingUp(_ bot: String) {
        state.withLock { state in
            if !state.catchUpOver { state.catchingUp.insert(bot) }
        }
    }

    /// Notes that `bot` handled what its first poll brought (or takes webhook deliveries, or
    /// ended).
    func caughtUp(_ bot: String) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.catchingUp.remove(bot) != nil else { return nil }
            if state.catchingUp.isEmpty { state.catchUpOver = true }
            return state.admitNext()
        }
        next?.resume()
    }

    /// Runs `body`, a suspect of `bot`, once the other bots have caught up and no suspect
    /// before it in `order` waits or runs.
    func run<T: Sendable>(of bot: String, order: SuspectOrder, _ body: () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (enter, startLimit) = state.withLock { state in
                state.waiters.append(Waiter(bot: bot, order: order, continuation: continuation))
                let startLimit = !state.limitStarted
                state.limitStarted = true
                return (state.admitNext(), startLimit)
            }
            enter?.resume()
            if startLimit { endCatchUp(after: catchUpLimit) }
        }
        let result = await body()
        let next = state.withLock { state in
            state.running = nil
            return state.admitNext()
        }
        next?.resume()
        return result
    }

    /// Ends the catch-up after `limit`, whoever is still catching up.
    private func endCatchUp(after limit: Duration) {
        Task {
            try? await Task.sleep(for: limit)
            let next = state.withLock { state in
                state.catchUpOver = true
                state.catchingUp.removeAll()
                return state.admitNext()
            }
            next?.resume()
        }
    }
}
