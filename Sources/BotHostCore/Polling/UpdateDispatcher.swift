import BotHostKit
import Logging
import Synchronization
import TelegramBotAPI

/// Hands one bot's updates to its plugin and keeps track of which are done.
///
/// Updates of one chat run one after another, in `update_id` order (a conversation must
/// not be answered out of order); updates of different chats run concurrently, up to
/// `maxConcurrent` at once. ``confirmableOffset`` is the offset that is safe to send to
/// Telegram: it never passes an update whose handler has not finished, so a crash can
/// repeat an update but never lose one.
///
/// Because Telegram re-sends every unconfirmed update on the next poll, an update that
/// is still running arrives again; ``enqueue(_:)`` drops updates it has already seen.
final class UpdateDispatcher: Sendable {
    typealias Handler = @Sendable (Update) async throws -> Void

    /// What happened to one update's handler, for logs and metrics.
    enum HandlerResult: Sendable {
        case handled(Duration)
        case failed(any Error, Duration)
        case timedOut
    }

    private struct Lane {
        var queue: [Update] = []
        var running = false
    }

    private struct State {
        var lanes: [String: Lane] = [:]
        /// Lanes with queued updates and no running handler, in arrival order.
        var ready: [String] = []
        var workers = 0
        var unfinished: Set<Int64> = []
        var highestSeen: Int64?
        var abandoned = false
        var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0
        /// Running workers, so that ``abandon()`` can cancel their handlers.
        var workerTasks: [UInt64: Task<Void, Never>] = [:]
        /// Workers that ended before their task was recorded.
        var endedEarly: Set<UInt64> = []
    }

    private let state = Mutex(State())
    private let maxConcurrent: Int
    private let handlerTimeLimit: TimeLimiter
    /// Handler timeouts (``handlerTimeLimit``) and idle waits run in real time, whatever
    /// clock the bot's backoff uses: they bound real work.
    private let clock = ContinuousClock()
    private let handler: Handler
    private let onResult: @Sendable (Update, HandlerResult) -> Void

    init(
        maxConcurrent: Int, handlerTimeout: Duration, handler: @escaping Handler,
        onResult: @escaping @Sendable (Update, HandlerResult) -> Void
    ) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.handlerTimeLimit = TimeLimiter(limit: handlerTimeout)
        self.handler = handler
        self.onResult = onResult
    }

    /// The `offset` to send with the next `getUpdates`: the lowest unfinished update, or
    /// one past the highest seen; `nil` before the first update.
    var confirmableOffset: Int64? {
        state.withLock { state in
            state.unfinished.min() ?? state.highestSeen.map { $0 + 1 }
        }
    }

    /// Updates fetched and not yet finished.
    var unfinishedCount: Int { state.withLock { $0.unfinished.count } }

    /// Queues new updates (already-seen ones are dropped), starts workers for them, and
    /// returns the new ones.
    @discardableResult
    func enqueue(_ updates: [Update]) -> [Update] {
        let (fresh, workersToStart) = state.withLock { state -> ([Update], Int) in
            guard !state.abandoned else { return ([], 0) }
            var fresh: [Update] = []
            for update in updates.sorted(by: { $0.updateID < $1.updateID }) {
                if let highest = state.highestSeen, update.updateID <= highest { continue }
                fresh.append(update)
                state.highestSeen = update.updateID
                state.unfinished.insert(update.updateID)
                let key = update.chatID.map { "chat:\($0)" } ?? "update:\(update.updateID)"
                state.lanes[key, default: Lane()].queue.append(update)
                if state.lanes[key]?.running == false, !state.ready.contains(key) { state.ready.append(key) }
            }
            let start = max(0, min(state.ready.count, maxConcurrent - state.workers))
            state.workers += start
            return (fresh, start)
        }
        for _ in 0..<workersToStart { startWorker() }
        return fresh
    }

    /// Returns once every fetched update has finished, or after `limit`, whichever is first.
    func waitUntilIdle(atMost limit: Duration) async {
        guard unfinishedCount > 0 else { return }
        _ = await runWithTimeLimit(limit, clock: clock) { [self] in await waitUntilIdle() }
    }

    /// Stops handing out updates; handlers still running are cancelled and their updates
    /// stay unconfirmed, to be delivered again after a restart.
    func abandon() {
        let tasks = state.withLock { state in
            state.abandoned = true
            for key in state.lanes.keys { state.lanes[key]?.queue.removeAll() }
            state.ready.removeAll()
            return Array(state.workerTasks.values)
        }
        for task in tasks { task.cancel() }
    }

    // MARK: - Workers

    private func startWorker() {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // Owned by the dispatcher: it ends when no lane is ready, and ``abandon()`` cancels it.
        let task = Task { [self] in
            while let (key, update) = takeNext() {
                let result = await run(update)
                onResult(update, result)
                finish(key: key, update: update)
            }
            state.withLock { state in
                if state.workerTasks.removeValue(forKey: id) == nil { state.endedEarly.insert(id) }
            }
        }
        state.withLock { state in
            if state.endedEarly.remove(id) == nil { state.workerTasks[id] = task }
        }
    }

    private func run(_ update: Update) async -> HandlerResult {
        let (outcome, duration) = await measure(on: clock) {
            await handlerTimeLimit.run { [handler] in try await handler(update) }
        }
        switch outcome {
        case .finished: return .handled(duration)
        case .failed(let error): return .failed(error, duration)
        case .timedOut: return .timedOut
        }
    }

    /// The next update of a ready lane, marking the lane running; `nil` retires the worker.
    private func takeNext() -> (String, Update)? {
        state.withLock { state in
            guard !state.abandoned, !state.ready.isEmpty else {
                state.workers -= 1
                return nil
            }
            let key = state.ready.removeFirst()
            let update = state.lanes[key]!.queue.removeFirst()
            state.lanes[key]!.running = true
            return (key, update)
        }
    }

    private func finish(key: String, update: Update) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.abandoned else { return [] }
            state.unfinished.remove(update.updateID)
            state.lanes[key]!.running = false
            if state.lanes[key]!.queue.isEmpty {
                state.lanes.removeValue(forKey: key)
            } else {
                state.ready.append(key)
            }
            guard state.unfinished.isEmpty else { return [] }
            defer { state.idleWaiters.removeAll() }
            return Array(state.idleWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilIdle() async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let idle = state.withLock { state in
                    if state.unfinished.isEmpty || Task.isCancelled { return true }
                    state.idleWaiters[id] = continuation
                    return false
                }
                if idle { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: id) }?.resume()
        }
    }
}
