import DequeModule
import Synchronization

/// Lets one update at a time run, host-wide, of those that were running when the process
/// died (the suspects: one of them may have killed it).
///
/// Each bot tries its suspects alone (``UpdateDispatcher/enqueue(_:isolated:)``); the gate
/// keeps suspects of different bots from running at once too, so the next crash is charged
/// to the update that caused it, not to another bot's hung chat that ran beside it.
final class SuspectGate: Sendable {
    private struct State {
        var busy = false
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }

    private let state = Mutex(State())

    init() {}

    /// Runs `body` once no other suspect runs.
    func run<T: Sendable>(_ body: () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let enter = state.withLock { state in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if enter { continuation.resume() }
        }
        let result = await body()
        let next = state.withLock { state in
            let next = state.waiters.popFirst()
            if next == nil { state.busy = false }
            return next
        }
        next?.resume()
        return result
    }
}
