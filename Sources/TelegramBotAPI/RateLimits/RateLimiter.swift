import Synchronization

/// One bot's outgoing rate limiter: each call waits in ``admit(_:method:)`` until the
/// bot's limits let it go, in the order ``SendQueue`` gives (replies first; a chat over
/// its budget holds back only itself), and ``pause(_:for:)`` keeps a chat, or the whole
/// bot, quiet for a 429's `retry_after`.
///
/// A call that may go at once does not suspend. Waiting calls are woken by one timer,
/// set for the earliest moment any of them may go, on the client's clock (a manual one in
/// tests).
final class RateLimiter: Sendable {
    /// How a waiting call's wait ended.
    private enum Outcome {
        case granted
        case expired
        case cancelled
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Void, any Error>
        var method: String
        var chat: ChatID?
    }

    private struct State {
        var queue: SendQueue
        /// Calls suspended in ``admit(_:method:)``.
        var waiters: [UInt64: Waiter] = [:]
        /// Calls whose wait ended before they suspended.
        var decided: [UInt64: Outcome] = [:]
        var nextID: UInt64 = 0
        /// The one timer, set for `at`.
        var timer: (id: UInt64, at: Duration, task: Task<Void, Never>)?
        /// The queue length last told to the observer.
        var toldLength = 0
    }

    private let state: Mutex<State>
    private let timeline: Timeline
    private let maxWait: Duration
    private let observer: (any RateLimitObserver)?

    init(limits: RateLimits, maxWait: Duration, clock: any Clock<Duration>, observer: (any RateLimitObserver)?) {
        let timeline = Timeline(clock)
        self.timeline = timeline
        self.maxWait = maxWait
        self.observer = observer
        state = Mutex(State(queue: SendQueue(limits: limits, maxWait: maxWait, at: timeline.now())))
    }

    deinit {
        state.withLock { $0.timer?.task.cancel() }
    }

    /// Returns once `messages` may go; throws ``RateLimitWaitTooLong`` when they would wait
    /// too long, and `CancellationError` when the calling task is cancelled meanwhile.
    /// The caller's ``SendPriority`` decides its place in the queue.
    func admit(_ messages: OutgoingMessages, method: String) async throws {
        let now = timeline.now()
        let (id, admission, resumed) = state.withLock { state -> (UInt64, SendQueue.Admission, [(Waiter, Outcome)]) in
            state.nextID += 1
            let id = state.nextID
            let call = SendQueue.Call(id: id, messages: messages, priority: SendPriority.current, arrived: now)
            let admission = state.queue.admit(call, at: now)
            guard case .queued(let release) = admission else { return (id, admission, []) }
            return (id, admission, settle(release, caller: id, in: &state))
        }
        switch admission {
        case .refused(let wait):
            observer?.callRefused()
            throw RateLimitWaitTooLong(method: method, chat: messages.chat, wait: wait, maxWait: maxWait)
        case .queued(let release):
            finish(release, resuming: resumed)
            if release.granted.contains(where: { $0.id == id }) { return }
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let early = state.withLock { state -> Outcome? in
                    if let outcome = state.decided.removeValue(forKey: id) { return outcome }
                    state.waiters[id] = Waiter(continuation: continuation, method: method, chat: messages.chat)
                    return nil
                }
                if let early { resume(continuation, early, method: method, chat: messages.chat) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Telegram answered 429 with `retryAfter` to a call for `chat` (`nil`: a call without
    /// a chat): that chat, or the whole bot, waits it out.
    func pause(_ chat: ChatID?, for retryAfter: Duration) {
        rescan { state, now in state.queue.pause(chat, for: retryAfter, at: now) }
    }

    // MARK: - Waking

    /// Changes the state with `change` (told the time), then lets go what may go now.
    private func rescan(after change: (inout State, Duration) -> Void) {
        let now = timeline.now()
        let (release, resumed) = state.withLock { state in
            change(&state, now)
            let release = state.queue.release(at: now)
            return (release, settle(release, in: &state))
        }
        finish(release, resuming: resumed)
    }

    /// Under the lock: takes the waiters `release` let go or expired (and notes the
    /// outcome of calls not yet suspended, but for the `caller` being admitted), and sets
    /// the timer for the next look. Returns the waiters to resume.
    private func settle(_ release: SendQueue.Release, caller: UInt64? = nil, in state: inout State) -> [(Waiter, Outcome)] {
        var resumed: [(Waiter, Outcome)] = []
        func end(_ id: UInt64, _ outcome: Outcome) {
            guard id != caller else { return }
            if let waiter = state.waiters.removeValue(forKey: id) {
                resumed.append((waiter, outcome))
            } else {
                state.decided[id] = outcome
            }
        }
        for granted in release.granted { end(granted.id, .granted) }
        for id in release.expired { end(id, .expired) }
        setTimer(for: release.wake, in: &state)
        // Told under the lock, so that the last length told is the queue's.
        if state.queue.count != state.toldLength {
            state.toldLength = state.queue.count
            observer?.queueChanged(length: state.toldLength)
        }
        return resumed
    }

    /// Outside the lock: tells the observer of the waits and resumes `resumed`.
    private func finish(_ release: SendQueue.Release, resuming resumed: [(Waiter, Outcome)]) {
        for granted in release.granted where granted.waited > .zero { observer?.callWaited(granted.waited) }
        for _ in release.expired { observer?.callRefused() }
        for (waiter, outcome) in resumed {
            resume(waiter.continuation, outcome, method: waiter.method, chat: waiter.chat)
        }
    }

    /// Sets the timer for `wake` unless it is set for earlier already; with no `wake`,
    /// stops it.
    private func setTimer(for wake: Duration?, in state: inout State) {
        guard let wake else {
            state.timer.take()?.task.cancel()
            return
        }
        if let timer = state.timer, timer.at <= wake { return }
        state.timer?.task.cancel()
        state.nextID += 1
        let id = state.nextID
        // Owned by the limiter: replaced (and cancelled) by an earlier one, cancelled when
        // nothing waits or the limiter goes away.
        let task = Task { [weak self, timeline] in
            do {
                try await timeline.sleep(wake)
            } catch {
                return
            }
            self?.timerFired(id)
        }
        state.timer = (id, wake, task)
    }

    private func timerFired(_ id: UInt64) {
        rescan { state, _ in
            if state.timer?.id == id { state.timer = nil }
        }
    }

    /// The task waiting for call `id` was cancelled: it leaves the queue, and the calls
    /// it held back may go.
    private func cancel(_ id: UInt64) {
        var cancelled: Waiter?
        rescan { state, _ in
            guard state.queue.remove(id) else { return }
            cancelled = state.waiters.removeValue(forKey: id)
            if cancelled == nil { state.decided[id] = .cancelled }
        }
        cancelled?.continuation.resume(throwing: CancellationError())
    }

    private func resume(_ continuation: CheckedContinuation<Void, any Error>, _ outcome: Outcome, method: String, chat: ChatID?) {
        switch outcome {
        case .granted: continuation.resume()
        case .expired:
            continuation.resume(throwing: RateLimitWaitTooLong(method: method, chat: chat, wait: maxWait, maxWait: maxWait))
        case .cancelled: continuation.resume(throwing: CancellationError())
        }
    }
}
