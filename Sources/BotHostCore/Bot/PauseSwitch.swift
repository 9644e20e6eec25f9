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
        /// What the next pause calls, by id (``whenPaused(_:)``).
        var actions: [Int: @Sendable () -> Void] = [:]
        var nextID = 0

        mutating func takeID() -> Int {
            defer { nextID += 1 }
            return nextID
        }
    }

    init(paused: Bool = false) {
        state = Mutex(State(paused: paused))
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    /// Pauses (`true`) or resumes (`false`); returns whether that changed anything.
    @discardableResult
    func set(paused: Bool) -> Bool {
        let woken = state.withLock {
            state -> (continuations: [CheckedContinuation<Void, Never>], actions: [@Sendable () -> Void])? in
            guard state.paused != paused else { return nil }
            state.paused = paused
            let woken = state.waiters.filter { $0.value.untilPaused == paused }
            for id in woken.keys { state.waiters[id] = nil }
            defer { if paused { state.actions = [:] } }
            return (woken.values.map(\.continuation), paused ? Array(state.actions.values) : [])
        }
        for continuation in woken?.continuations ?? [] { continuation.resume() }
        for action in woken?.actions ?? [] { action() }
        return woken != nil
    }

    /// Has the next pause call `action` (once), and returns the registration for
    /// ``cancel(_:)``; `nil`, calling nothing, when the bot is paused already. A callback
    /// rather than a waiting task: the polling loop registers one for every long poll.
    func whenPaused(_ action: @escaping @Sendable () -> Void) -> Int? {
        state.withLock { state in
            guard !state.paused else { return nil }
            let id = state.takeID()
            state.actions[id] = action
            return id
        }
    }

    /// Forgets what ``whenPaused(_:)`` registered as `registration`, if the pause has not
    /// come yet.
    func cancel(_ registration: Int) {
        _ = state.withLock { $0.actions.removeValue(forKey: registration) }
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
        let id = state.withLock { $0.takeID() }
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
