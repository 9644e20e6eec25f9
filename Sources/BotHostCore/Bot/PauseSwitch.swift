import Synchronization

/// Whether the operator has paused a bot (the control API's pause and resume), and the
/// waits of its polling loop on that.
///
/// A paused bot sends no `getUpdates`, so Telegram keeps its updates until it resumes;
/// its lock stays held, so no other host takes the bot meanwhile. The switch outlives a
/// restart of the bot: a restart is not a resume.
final class PauseSwitch: Sendable {
    private let state: Mutex<State>

    private struct State {
        var paused: Bool
        /// Who waits for the switch to be flipped to the value they wait for, by id.
        var waiters: [Int: (untilPaused: Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextID = 0
    }

    init(paused: Bool = false) {
        state = Mutex(State(paused: paused))
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    /// Pauses (`true`) or resumes (`false`); returns whether that changed anything.
    @discardableResult
    func set(paused: Bool) -> Bool {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
            guard state.paused != paused else { return nil }
            state.paused = paused
            let woken = state.waiters.filter { $0.value.untilPaused == paused }
            for id in woken.keys { state.waiters[id] = nil }
            return woken.values.map(\.continuation)
        }
        for continuation in woken ?? [] { continuation.resume() }
        return woken != nil
    }

    /// Returns once the bot is not paused, or its task is cancelled (a stop).
    func waitUntilResumed() async {
        await wait(untilPaused: false)
    }

    /// Returns once the bot is paused, or its task is cancelled: what a pending poll races.
    func waitUntilPaused() async {
        await wait(untilPaused: true)
    }

    private func wait(untilPaused: Bool) async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    guard state.paused != untilPaused, !Task.isCancelled else { return true }
                    state.waiters[id] = (untilPaused, continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}
