import Synchronization

/// Holds whoever waits on it until it is opened, and notes who came.
final class Latch: Sendable {
    private let state = Mutex<(entered: [String], waiting: [CheckedContinuation<Void, Never>], open: Bool)>(
        ([], [], false))

    /// The names of those that waited, in the order they came.
    var entered: [String] { state.withLock { $0.entered } }

    /// Returns once the latch is open (at once if it is), noting `name`.
    func wait(_ name: String = "") async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state in
                state.entered.append(name)
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if passNow { continuation.resume() }
        }
    }

    /// Lets every waiter through, and every later one at once.
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
