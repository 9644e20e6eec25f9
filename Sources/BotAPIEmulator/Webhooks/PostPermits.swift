import NIOCore
import Synchronization

/// The webhook posts that may be under way at once across every bot: the others wait here,
/// first come first served, each in constant time.
///
/// They must not wait in the HTTP client's connection pool instead: a request queued there
/// fails once it has waited longer than the connect timeout, and each one leaving the queue
/// costs a scan of it. A burst across thousands of bots then spends the emulator's time
/// timing out posts that are retried and queued again, and the burst never ends.
final class PostPermits: Sendable {
    private let state: Mutex<State>

    private struct State {
        var available: Int
        var waiting = CircularBuffer<CheckedContinuation<Void, Never>>()
        /// After ``PostPermits/open()``: nobody waits any more.
        var opened = false
    }

    /// `limit` posts at once.
    init(limit: Int) {
        state = Mutex(State(available: limit))
    }

    /// Waits for a permit; pair with ``release()``.
    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                guard !state.opened else { return true }
                guard state.available > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a permit back: to the longest waiting post, if any.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let next = state.waiting.popFirst() else {
                state.available += 1
                return nil
            }
            return next
        }
        next?.resume()
    }

    /// Lets every waiting and later post through at once: the pusher is shutting down, and
    /// its posts fail fast on the closed client.
    func open() {
        let waiting = state.withLock { state in
            state.opened = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting)
        }
        for continuation in waiting { continuation.resume() }
    }
}
