import Synchronization

/// Runs a recurring check of each bot of the process, such as its journal's housekeeping or
/// its webhook's `getWebhookInfo`, about once per interval, on one task for all of them:
/// each tick starts the next share of the bots, spread evenly over the interval in the
/// order the bots came.
///
/// With a sleeping task and a timer per bot, ten thousand idle webhook bots woke about 500
/// times a second and kept tens of thousands of tasks and timers alive for it; here one
/// task wakes once a tick (at most a second), and each check is a task that lives only as
/// long as the check. A check that hangs holds back only its own bot: the bot's next turn
/// is skipped while it runs, and every other bot's check starts on time.
package final class RecurringChecks: Sendable {
    /// One bot's check.
    typealias Check = @Sendable () async -> Void

    private struct State {
        var checks: [LockID: Check] = [:]
        /// The bots in the order they are checked, each once; one removed is dropped when
        /// the round ends.
        var round: [LockID] = []
        var inRound: Set<LockID> = []
        /// The ticks of the round gone by: tick `t` of `T` checks the bots of ``round`` from
        /// ``next`` to the `t`th `T`th of it.
        var ticks = 0
        var next = 0
        /// Bots to check at the next tick besides those whose turn it is (``checkSoon(_:)``).
        var soon: Set<LockID> = []
        /// The checks under way, by bot.
        var running: [LockID: Task<Void, Never>] = [:]
        var runner: Task<Void, Never>?
    }

    private let state = Mutex(State())
    /// The longest between two checks of a bot.
    let interval: Duration
    private let tick: Duration

    /// Checks every bot once per `interval`, waking every tenth of it (a second at most).
    package init(interval: Duration) {
        self.interval = interval
        self.tick = min(.seconds(1), interval / 10)
    }

    /// Checks `bot` with `check` from the next round on, in place of any check it had.
    func add(_ bot: LockID, _ check: @escaping Check) {
        state.withLock { state in
            state.checks[bot] = check
            if state.inRound.insert(bot).inserted { state.round.append(bot) }
            if state.runner == nil { state.runner = Task { await self.run() } }
        }
    }

    /// Stops checking `bot`: cancels its check under way, if any, and returns once it ended,
    /// so that nothing the check uses (the bot's journal) is closed under it.
    func remove(_ bot: LockID) async {
        let running = state.withLock { state in
            state.checks[bot] = nil
            return state.running[bot]
        }
        running?.cancel()
        await running?.value
    }

    /// Checks `bot` at the next tick, besides its turn, or right after its check under way.
    func checkSoon(_ bot: LockID) {
        state.withLock { state in
            if state.checks[bot] != nil { state.soon.insert(bot) }
        }
    }

    /// Each tick, starts the checks due, until no bot is left.
    private func run() async {
        let ticksPerRound = max(1, Int((interval / tick).rounded(.up)))
        repeat {
            try? await Task.sleep(for: tick)
        } while startDue(ticksPerRound: ticksPerRound)
    }

    /// The most checks under way at once, unless a tick's share of the bots is larger: a
    /// thousand bots asked for at once (each bot's first housekeeping pass at start-up) are
    /// checked over the next ticks, not in one storm of connections and journal opens.
    static let maxRunning = 64

    /// Starts the checks of this tick (a `ticksPerRound`th of the bots, and those asked for
    /// soon), leaving for the next tick bots whose last check is still under way and those
    /// past ``maxRunning``; `false` once no bot is left, when the runner ends.
    private func startDue(ticksPerRound: Int) -> Bool {
        state.withLock { state in
            if state.ticks == ticksPerRound {
                state.round.removeAll { state.checks[$0] == nil }
                state.inRound = Set(state.round)
                state.ticks = 0
                state.next = 0
            }
            guard !state.checks.isEmpty else {
                state.runner = nil
                return false
            }
            // From where the last tick ended: bots added during the round move the shares.
            let start = min(state.next, state.round.count)
            state.ticks += 1
            let end = max(start, state.ticks * state.round.count / ticksPerRound)
            state.next = end
            var bots = state.soon
            bots.formUnion(state.round[start..<end])
            let limit = max(Self.maxRunning, 2 * (end - start))
            state.soon = []
            for bot in bots {
                guard let check = state.checks[bot] else { continue }
                guard state.running[bot] == nil, state.running.count < limit else {
                    state.soon.insert(bot)
                    continue
                }
                // Started under the lock, so that it cannot end before it is recorded.
                state.running[bot] = Task {
                    await check()
                    _ = self.state.withLock { $0.running.removeValue(forKey: bot) }
                }
            }
            return true
        }
    }
}
