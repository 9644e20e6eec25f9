import Synchronization

/// Tries begun and entries finished, gathered while one write is under way and written
/// together by the next (a group commit): a bot handling thousands of updates a second
/// writes a few transactions a second, while a lone mark is written at once.
final class JournalMarks: Sendable {
    /// Marks for one write.
    struct Batch: Sendable {
        var attempts: [Int64] = []
        var finished: [Int64] = []

        var isEmpty: Bool { attempts.isEmpty && finished.isEmpty }
    }

    typealias Write = @Sendable (Batch) async throws(JournalError) -> Void

    private struct State {
        var pending = Batch()
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var writing = false
    }

    private let state = Mutex(State())
    private let write: Write

    /// `write` commits one batch in one transaction.
    init(write: @escaping Write) {
        self.write = write
    }

    /// Records that a try of `sequence` begins; returns once that is durable.
    func beginAttempt(_ sequence: Int64) async throws(JournalError) {
        try await submit { $0.attempts.append(sequence) }
    }

    /// Marks `sequence` finished, to be written with the next batch.
    func finish(_ sequence: Int64) {
        let startWriter = state.withLock { state in
            state.pending.finished.append(sequence)
            return startWriting(&state)
        }
        if startWriter { spawnWriter() }
    }

    /// Returns once every mark given so far is durable: at once when none is pending.
    func flush() async throws(JournalError) {
        guard state.withLock({ !$0.pending.isEmpty || $0.writing }) else { return }
        try await submit { _ in }
    }

    private func submit(_ mark: @escaping @Sendable (inout Batch) -> Void) async throws(JournalError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let startWriter = state.withLock { state in
                    mark(&state.pending)
                    state.waiters.append(continuation)
                    return startWriting(&state)
                }
                if startWriter { spawnWriter() }
            }
        } catch {
            throw error as? JournalError ?? .writeFailed(place: "?", "\(error)")
        }
    }

    private func startWriting(_ state: inout State) -> Bool {
        guard !state.writing else { return false }
        state.writing = true
        return true
    }

    private func spawnWriter() {
        // Owned by the marks: it ends as soon as nothing is pending, and every waiter it
        // took is resumed before.
        Task { [self] in
            while let (batch, waiters) = takePending() {
                do {
                    // A flush waits for the batch under way; it needs no write of its own.
                    if !batch.isEmpty { try await write(batch) }
                    for waiter in waiters { waiter.resume() }
                } catch {
                    // Finished marks are kept for the next write, which the next mark
                    // starts; a try that could not be recorded is not begun (its waiter
                    // gets the error).
                    state.withLock { state in
                        state.pending.finished.insert(contentsOf: batch.finished, at: 0)
                        state.writing = false
                    }
                    for waiter in waiters { waiter.resume(throwing: error) }
                    return
                }
            }
        }
    }

    /// The pending marks and their waiters, or `nil` (and writing stops) when none.
    private func takePending() -> (Batch, [CheckedContinuation<Void, any Error>])? {
        state.withLock { state in
            guard !state.pending.isEmpty || !state.waiters.isEmpty else {
                state.writing = false
                return nil
            }
            defer {
                state.pending = Batch()
                state.waiters = []
            }
            return (state.pending, state.waiters)
        }
    }
}
