import Foundation
import Synchronization
import Testing

@testable import BotHostCore

/// The group commit of tries and finish marks, on its own.
@Suite struct JournalMarksTests {
    /// Whether a call returned, as seen from outside the task that made it.
    private final class Returned: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// A flush (or a try) given while a write is under way waits for the next write. When
    /// the write under way fails, those waiters must be answered too (with the error): at
    /// shutdown (`drain`, `close`) no later mark would come to start another writer.
    @Test func aFlushGivenWhileAWriteFailsIsAnsweredWithoutAnotherMark() async throws {
        let writes = Mutex(0)
        let marks = JournalMarks(place: "test.journal") { _ throws(JournalError) in
            let write = writes.withLock { writes in
                writes += 1
                return writes
            }
            guard write == 1 else { return }
            // The first write fails after a while, as on a full disk.
            try? await Task.sleep(for: .milliseconds(300))
            throw .writeFailed(place: "test.journal", "the disk is full")
        }
        let firstTry = Task { try await marks.beginAttempt(1) }
        try await Task.sleep(for: .milliseconds(100))

        let returned = Returned()
        // Not awaited: when the bug is there it never ends.
        Task {
            try? await marks.flush()
            returned.set()
        }
        #expect(await (try? firstTry.value) == nil, "the first write was meant to fail")
        let deadline = ContinuousClock.now + .seconds(5)
        while !returned.isSet && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(
            returned.isSet,
            "flush() given during a failing write did not return within 5 s: its waiter was left with no writer (\(writes.withLock { $0 }) writes)"
        )
    }
}
