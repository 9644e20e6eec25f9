import BotHostKit
import DequeModule
import Foundation
import Logging
import Synchronization
import TelegramBotAPI

/// Hands one bot's journaled updates to its plugin and tells the journal how each ended.
///
/// Updates of one chat run one after another, in the order they were fetched (a
/// conversation must not be answered out of order); updates of different chats run
/// concurrently, up to `maxConcurrent` at once. A chat whose handler hangs holds back
/// only that chat.
///
/// The journal owns every update given to ``enqueue(_:)``. Each try is recorded there
/// before the handler runs. A handler that returns or throws finishes its update (a throw
/// is logged and counted, not retried); one that times out is tried again, up to
/// `maxAttempts` tries in all, and then the update is set aside as a dead letter and its
/// chat moves on.
///
/// Updates that were running when the process died (``enqueue(_:isolated:)``) are tried
/// one at a time, with nothing else running: the one that crashed the process then takes
/// the next crash alone, and the others are not charged a try for it.
///
/// Memory: at most ``payloadLimit`` updates are held whole. Past that, an entry keeps only
/// its numbers (a few dozen bytes), and its update is read back from the journal when its
/// turn comes.
final class UpdateDispatcher: Sendable {
    typealias Handler = @Sendable (Update) async throws -> Void

    /// What happened to one try of an update, for logs and metrics.
    enum HandlerResult: Sendable {
        case handled(Duration)
        case failed(any Error, Duration)
        /// The try timed out; the update is tried again when `willRetry`.
        case timedOut(attempt: Int, willRetry: Bool)
        /// The update was set aside as a dead letter.
        case setAside(reason: String)
    }

    /// How many updates the dispatcher holds whole in memory.
    static let payloadLimit = 1_000

    /// Updates of one chat (or one update of no chat), run in order.
    private enum LaneKey: Hashable {
        case chat(Int64)
        case alone(sequence: Int64)

        init(_ entry: JournalEntry) {
            self = entry.chatID.map(LaneKey.chat) ?? .alone(sequence: entry.sequence)
        }
    }

    private struct Lane {
        var queue = Deque<JournalEntry>()
        /// The entry whose try is running, if any.
        var running: Int64?
    }

    /// What a waiter waits for.
    private enum Goal {
        case unfinishedAtMost(Int)
        case finishedAtLeast(Int)

        func isMet(queued: Int, unfinished: Int) -> Bool {
            switch self {
            case .unfinishedAtMost(let bound): unfinished <= bound
            case .finishedAtLeast(let count): queued - unfinished >= count
            }
        }
    }

    private struct State {
        var lanes: [LaneKey: Lane] = [:]
        /// Lanes with queued updates and no running handler, in the order they became ready.
        var ready = Deque<LaneKey>()
        var workers = 0
        /// Tries running now.
        var running = 0
        /// Running entries whose try the journal has recorded.
        var recorded: Set<Int64> = []
        /// Entries to try alone (see ``enqueue(_:isolated:)``); while any is left, nothing
        /// else starts.
        var isolated: Set<Int64> = []
        /// Entries queued or running.
        var unfinished = 0
        /// Entries ever queued: those finished are `queued - unfinished`.
        var queued = 0
        var payloads = 0
        var abandoned = false
        /// Who waits for what, by waiter id.
        var waiters: [UInt64: (goal: Goal, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextID: UInt64 = 0
        /// Running workers, so that ``abandon()`` can cancel their handlers.
        var workerTasks: [UInt64: Task<Void, Never>] = [:]
        /// Workers that ended before their task was recorded.
        var endedEarly: Set<UInt64> = []

        /// `key`'s first entry, when that entry is to be tried alone.
        func isolatedHead(_ key: LaneKey) -> JournalEntry? {
            guard let head = lanes[key]?.queue.first, isolated.contains(head.sequence) else { return nil }
            return head
        }

        mutating func takeID() -> UInt64 {
            nextID += 1
            return nextID
        }
    }

    private let state = Mutex(State())
    private let journal: any UpdateJournal
    /// The bot's name, for the ``SuspectGate``.
    private let bot: String
    private let suspects: SuspectGate
    private let maxConcurrent: Int
    private let maxAttempts: Int
    private let handlerTimeLimit: TimeLimiter
    /// Handler timeouts and idle waits run in real time, whatever clock the bot's backoff
    /// uses: they bound real work.
    private let clock = ContinuousClock()
    private let handler: Handler
    private let onResult: @Sendable (JournalEntry, HandlerResult) -> Void
    /// Called when the journal cannot record a try; the worker waits before trying again.
    private let onJournalFailure: @Sendable (JournalError) -> Void

    init(
        bot: String, journal: any UpdateJournal, suspects: SuspectGate, maxConcurrent: Int, maxAttempts: Int,
        handlerTimeout: Duration,
        handler: @escaping Handler, onResult: @escaping @Sendable (JournalEntry, HandlerResult) -> Void,
        onJournalFailure: @escaping @Sendable (JournalError) -> Void
    ) {
        self.bot = bot
        self.journal = journal
        self.suspects = suspects
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxAttempts = max(1, maxAttempts)
        self.handlerTimeLimit = TimeLimiter(limit: handlerTimeout, executor: PluginExecutor.shared)
        self.handler = handler
        self.onResult = onResult
        self.onJournalFailure = onJournalFailure
    }

    /// Entries queued or running.
    var unfinishedCount: Int { state.withLock { $0.unfinished } }

    /// Queues journaled entries, in the order given, and starts workers for them.
    /// `isolated` entries (those that were running when the process died) are tried one at
    /// a time before anything else; each must be the first unfinished entry of its chat.
    func enqueue(_ entries: [JournalEntry], isolated: Bool = false) {
        let workersToStart = state.withLock { state -> Int in
            guard !state.abandoned else { return 0 }
            for var entry in entries {
                if entry.update != nil {
                    if state.payloads < Self.payloadLimit { state.payloads += 1 } else { entry.update = nil }
                }
                if isolated { state.isolated.insert(entry.sequence) }
                let key = LaneKey(entry)
                state.lanes[key, default: Lane()].queue.append(entry)
                state.unfinished += 1
                state.queued += 1
                if state.lanes[key]?.running == nil, state.lanes[key]?.queue.count == 1 { state.ready.append(key) }
            }
            return claimWorkers(&state)
        }
        for _ in 0..<workersToStart { startWorker() }
    }

    /// How many more workers the ready lanes need now (counted as started): one at most
    /// while isolated entries are left.
    private func claimWorkers(_ state: inout State) -> Int {
        let limit = state.isolated.isEmpty ? maxConcurrent : (state.running == 0 && state.workers == 0 ? 1 : 0)
        let start = max(0, min(state.ready.count, limit - state.workers))
        state.workers += start
        return start
    }

    /// Returns once at most `bound` entries are unfinished (or the dispatcher is abandoned).
    func waitUntil(unfinishedAtMost bound: Int) async {
        await waitUntil(.unfinishedAtMost(bound))
    }

    /// Entries ever queued; with ``waitUntil(finishedAtLeast:)``, a caller waits until the
    /// work queued so far is done.
    var queuedCount: Int { state.withLock { $0.queued } }

    /// Returns once at least `count` entries have finished (or the dispatcher is
    /// abandoned), whichever they are: entries of a hung chat may be made up for by later
    /// ones of other chats.
    func waitUntil(finishedAtLeast count: Int) async {
        await waitUntil(.finishedAtLeast(count))
    }

    private func waitUntil(_ goal: Goal) async {
        let id = state.withLock { $0.takeID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    if goal.isMet(queued: state.queued, unfinished: state.unfinished) || state.abandoned || Task.isCancelled {
                        return true
                    }
                    state.waiters[id] = (goal, continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }

    /// Returns once every entry has ended, or after `limit`, whichever is first.
    func waitUntilIdle(atMost limit: Duration) async {
        guard unfinishedCount > 0 else { return }
        _ = await runWithTimeLimit(limit, clock: clock) { [self] in await waitUntil(unfinishedAtMost: 0) }
    }

    /// Stops handing out updates; handlers still running are cancelled. Their updates stay
    /// unfinished in the journal, to be tried again by the bot's next run. Returns the
    /// entries whose tries were cut short: a stop is no failed try, so the caller takes
    /// those tries back (``UpdateJournal/undoAttempt(_:)``).
    @discardableResult
    func abandon() -> [Int64] {
        let (tasks, waiters, interrupted) = state.withLock { state in
            state.abandoned = true
            let interrupted = state.lanes.values.compactMap(\.running).filter(state.recorded.contains)
            state.lanes.removeAll()
            state.ready.removeAll()
            defer { state.waiters.removeAll() }
            return (Array(state.workerTasks.values), state.waiters.values.map(\.continuation), interrupted)
        }
        for task in tasks { task.cancel() }
        for waiter in waiters { waiter.resume() }
        return interrupted
    }

    // MARK: - Workers

    private func startWorker() {
        let id = state.withLock { $0.takeID() }
        // Owned by the dispatcher: it ends when no lane is ready, and ``abandon()`` cancels it.
        let task = Task { [self] in
            while let (key, entry, isolated) = takeNext() {
                let retry =
                    isolated
                    ? await suspects.run(of: bot, order: SuspectOrder(entry)) { await process(entry) } : await process(entry)
                finish(key: key, entry: entry, retry: retry)
            }
            state.withLock { state in
                if state.workerTasks.removeValue(forKey: id) == nil { state.endedEarly.insert(id) }
            }
        }
        state.withLock { state in
            if state.endedEarly.remove(id) == nil { state.workerTasks[id] = task }
        }
    }

    /// One try of `entry`: records it, runs the handler and tells the journal how it ended.
    /// Returns the entry to try again, if any.
    private func process(_ entry: JournalEntry) async -> JournalEntry? {
        let began = Date().timeIntervalSince1970
        guard await recordTry(of: entry) else { return nil }
        let attempt = entry.attempts + 1
        let update: Update
        if let held = entry.update {
            update = held
        } else {
            do {
                update = try await journal.load(entry.sequence)
            } catch {
                await setAside(entry, reason: "the journal could not read it back: \(error)")
                return nil
            }
        }
        let (outcome, duration) = await measure(on: clock) {
            await handlerTimeLimit.run { [handler] in try await handler(update) }
        }
        // A stop that cancelled the handler leaves the update unfinished, for the next run.
        guard !isAbandoned else { return nil }
        switch outcome {
        case .finished:
            journal.finish(entry.sequence)
            onResult(entry, .handled(duration))
        case .failed(let error):
            journal.finish(entry.sequence)
            onResult(entry, .failed(error, duration))
        case .timedOut:
            let willRetry = attempt < maxAttempts
            onResult(entry, .timedOut(attempt: attempt, willRetry: willRetry))
            guard willRetry else {
                await setAside(entry, reason: "its handler timed out in each of \(attempt) tries")
                return nil
            }
            var again = entry
            again.attempts = attempt
            again.triedAt = began
            again.update = update
            return again
        }
        return nil
    }

    /// Records a try in the journal, waiting out a journal that cannot write (a full disk);
    /// `false` once the dispatcher is abandoned.
    private func recordTry(of entry: JournalEntry) async -> Bool {
        while !isAbandoned {
            do {
                try await journal.beginAttempt(entry.sequence)
                state.withLock { _ = $0.recorded.insert(entry.sequence) }
                return true
            } catch {
                onJournalFailure(error)
                guard (try? await clock.sleep(for: Self.journalRetryDelay)) != nil else { return false }
            }
        }
        return false
    }

    /// How long a worker waits before recording a try again after the journal failed.
    static let journalRetryDelay = Duration.seconds(1)

    private func setAside(_ entry: JournalEntry, reason: String) async {
        do {
            try await journal.setAside(entry.sequence, reason: reason)
        } catch {
            // Left unfinished: the next run finds its tries used up and sets it aside then.
            onJournalFailure(error)
        }
        onResult(entry, .setAside(reason: reason))
    }

    private var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// The next entry of a ready lane, marking the lane running; `nil` retires the worker.
    /// While isolated entries are left, only one of them, and only when nothing runs.
    private func takeNext() -> (LaneKey, JournalEntry, isolated: Bool)? {
        state.withLock { state in
            var index = state.ready.startIndex
            if !state.isolated.isEmpty && state.running > 0 {
                index = state.ready.endIndex
            } else if !state.isolated.isEmpty {
                // In ``SuspectOrder``, as the ``SuspectGate`` picks among bots.
                let isolated = state.ready.indices.compactMap { index in
                    state.isolatedHead(state.ready[index]).map { (index: index, order: SuspectOrder($0)) }
                }.min { $0.order < $1.order }?.index
                // An isolated entry is always the head of its lane; should none be, nothing
                // is held back for it.
                if let isolated { index = isolated } else { state.isolated.removeAll() }
            }
            guard !state.abandoned, index < state.ready.endIndex else {
                state.workers -= 1
                return nil
            }
            let key = state.ready.remove(at: index)
            let entry = state.lanes[key]!.queue.removeFirst()
            state.lanes[key]!.running = entry.sequence
            state.running += 1
            return (key, entry, state.isolated.contains(entry.sequence))
        }
    }

    /// Ends a try: `retry` goes back to the head of its lane; otherwise the entry is done.
    private func finish(key: LaneKey, entry: JournalEntry, retry: JournalEntry?) {
        let (waiters, workersToStart) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Int) in
            guard !state.abandoned else { return ([], 0) }
            state.running -= 1
            state.recorded.remove(entry.sequence)
            if entry.update != nil { state.payloads -= 1 }
            if var retry {
                if state.payloads < Self.payloadLimit { state.payloads += 1 } else { retry.update = nil }
                state.lanes[key]!.queue.prepend(retry)
            } else {
                state.unfinished -= 1
                state.isolated.remove(entry.sequence)
            }
            state.lanes[key]!.running = nil
            if state.lanes[key]!.queue.isEmpty {
                state.lanes.removeValue(forKey: key)
            } else {
                state.ready.append(key)
            }
            let (queued, unfinished) = (state.queued, state.unfinished)
            let released = state.waiters.filter { $0.value.goal.isMet(queued: queued, unfinished: unfinished) }
            for id in released.keys { state.waiters.removeValue(forKey: id) }
            return (released.values.map(\.continuation), claimWorkers(&state))
        }
        for waiter in waiters { waiter.resume() }
        for _ in 0..<workersToStart { startWorker() }
    }
}
