import Foundation
import Synchronization

/// Tries begun and entries finished, gathered while one write is under way and written
/// together by the next (a group commit): a bot handling thousands of updates a second
/// writes a few transactions a second, while a lone mark is written at once.
final class JournalMarks: Sendable {
    /// Marks for one write.
    struct Batch: Sendable {
        /// Tries begun: the entry, and when (seconds since 1970).
        var attempts: [(sequence: Int64, at: Double)] = []
        /// Tries taken back: cut short by a stop, so not failed.
        var undone: [Int64] = []
        var finished: [Int64] = []

        var isEmpty: Bool { attempts.isEmpty && undone.isEmpty && finished.isEmpty }
    }

    typealias Write = @Sendable (Batch) async throws(JournalError) -> Void

    private struct State {
        var pending = Batch()
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var writing = false
    }

    private let state = Mutex(State())
    /// The journal's place, for errors.
    private let place: String
    private let write: Write

    /// `write` commits one batch in one transaction to the journal at `place`.
    init(place: String, write: @escaping Write) {
        self.place = place
        self.write = write
    }

    /// Records that a try of `sequence` begins; returns once that is durable.
    func beginAttempt(_ sequence: Int64) async throws(JournalError) {
        let now = Date().timeIntervalSince1970
        try await submit { $0.attempts.append((sequence, now)) }
    }

    /// Marks `sequence` finished, to be written with the next batch.
    func finish(_ sequence: Int64) {
        add { $0.finished.append(sequence) }
    }

    /// Takes back the try of `sequence` last recorded, with the next batch.
    func undoAttempt(_ sequence: Int64) {
        add { $0.undone.append(sequence) }
    }

    /// Adds a mark that nobody waits for, starting a write if none is under way.
    private func add(_ mark: (inout Batch) -> Void) {
        let startWriter = state.withLock { state in
            mark(&state.pending)
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
            throw error as? JournalError ?? .writeFailed(place: place, "\(error)")
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
                    // Finished and undone marks are kept for the next write, which the
                    // next mark starts. A try that could not be recorded is not begun: its
                    // waiter gets the error, and so does every waiter that came during
                    // this write (whose tries are dropped too), or it would wait for a
                    // writer that nothing starts.
                    let stranded = state.withLock { state in
                        state.pending.finished.insert(contentsOf: batch.finished, at: 0)
                        state.pending.undone.insert(contentsOf: batch.undone, at: 0)
                        state.pending.attempts.removeAll()
                        state.writing = false
                        defer { state.waiters.removeAll() }
                        return state.waiters
                    }
                    for waiter in waiters + stranded { waiter.resume(throwing: error) }
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
