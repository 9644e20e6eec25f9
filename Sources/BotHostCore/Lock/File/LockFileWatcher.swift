import Synchronization

/// Rechecks every lock file held through one ``FileTokenLock`` on one timer.
///
/// A host with a thousand bots would otherwise wake a thousand tasks every interval to
/// `lstat` one file each; one task checking them all costs a fraction of that, and an
/// idle host stays idle.
final class LockFileWatcher: Sendable {
    typealias Check = @Sendable () -> LockLossReason?

    private struct Watch {
        var check: Check
        var continuation: CheckedContinuation<LockLossReason, any Error>
    }

    private struct State {
        var watches: [UInt64: Watch] = [:]
        var nextID: UInt64 = 0
        var timer: Task<Void, Never>?
    }

    private let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// Returns the first loss `check` reports, checking every interval; throws
    /// `CancellationError` when the calling task is cancelled.
    func watch(_ check: @escaping Check) async throws -> LockLossReason {
        if let reason = check() { return reason }
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLock { state in
                    if Task.isCancelled { return true }
                    state.watches[id] = Watch(check: check, continuation: continuation)
                    // Owned by the watcher: it ends by itself once no lock is watched.
                    if state.timer == nil { state.timer = Task { await self.tick() } }
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            state.withLock { $0.watches.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Checks every watch each interval while there are any.
    private func tick() async {
        while true {
            try? await Task.sleep(for: interval)
            let watches = state.withLock { $0.watches }
            let lost = watches.compactMap { id, watch in watch.check().map { (id, $0) } }
            let (ended, finished) = state.withLock { state in
                let ended = lost.compactMap { id, reason in state.watches.removeValue(forKey: id).map { ($0, reason) } }
                if state.watches.isEmpty { state.timer = nil }
                return (ended, state.watches.isEmpty)
            }
            for (watch, reason) in ended { watch.continuation.resume(returning: reason) }
            if finished { return }
        }
    }
}
