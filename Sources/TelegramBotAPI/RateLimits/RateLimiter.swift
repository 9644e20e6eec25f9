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
        let (id, admission) = state.withLock { state in
            state.nextID += 1
            let call = SendQueue.Call(id: state.nextID, messages: messages, priority: SendPriority.current, arrived: now)
            return (state.nextID, state.queue.admit(call, at: now))
        }
        switch admission {
        case .refused(let wait):
            observer?.callRefused()
            throw RateLimitWaitTooLong(method: method, chat: messages.chat, wait: wait, maxWait: maxWait)
        case .queued(let release):
            apply(release)
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
        let now = timeline.now()
        let release = state.withLock { state in
            state.queue.pause(chat, for: retryAfter, at: now)
            return state.queue.release(at: now)
        }
        apply(release)
    }

    // MARK: - Waking

    /// Resumes the calls `release` let go or expired (or notes them for calls not yet
    /// suspended) and sets the timer for the next look.
    private func apply(_ release: SendQueue.Release) {
        var resumed: [(Waiter, Outcome)] = []
        state.withLock { state in
            let ended = release.granted.map { ($0.id, Outcome.granted) } + release.expired.map { ($0, Outcome.expired) }
            for (id, outcome) in ended {
                if let waiter = state.waiters.removeValue(forKey: id) {
                    resumed.append((waiter, outcome))
                } else {
                    state.decided[id] = outcome
                }
            }
            setTimer(for: release.wake, in: &state)
            // Under the lock, so that the last length told is the queue's.
            observer?.queueChanged(length: state.queue.count)
        }
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
        let now = timeline.now()
        let release = state.withLock { state in
            if state.timer?.id == id { state.timer = nil }
            return state.queue.release(at: now)
        }
        apply(release)
    }

    private func cancel(_ id: UInt64) {
        let now = timeline.now()
        let (waiter, release) = state.withLock { state -> (Waiter?, SendQueue.Release?) in
            guard state.queue.remove(id) else { return (nil, nil) }
            let waiter = state.waiters.removeValue(forKey: id)
            if waiter == nil { state.decided[id] = .cancelled }
            // The call may have held others back.
            return (waiter, state.queue.release(at: now))
        }
        if let release { apply(release) }
        waiter?.continuation.resume(throwing: CancellationError())
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

/// A clock read as the time since the limiter began, which the buckets count in.
private struct Timeline: Sendable {
    let now: @Sendable () -> Duration
    /// Sleeps until that time.
    let sleep: @Sendable (Duration) async throws -> Void

    init<C: Clock<Duration>>(_ clock: C) {
        let start = clock.now
        now = { start.duration(to: clock.now) }
        sleep = { time in try await clock.sleep(until: start.advanced(by: time), tolerance: nil) }
    }
}
