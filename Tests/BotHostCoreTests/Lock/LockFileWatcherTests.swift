import Foundation
import Testing

@testable import BotHostCore

@Suite struct LockFileWatcherTests {
    /// Many held locks share one watcher: removing one file ends exactly that lock's
    /// `lost()`, and the others keep being watched.
    @Test func oneWatcherTellsEachLockApart() async throws {
        try await withTemporaryDirectory { directory in
            let locks = FileTokenLock(directory: directory, recheckInterval: .milliseconds(20))
            var held: [any HeldTokenLock] = []
            for index in 0..<50 {
                let attempt = try await locks.tryAcquire(LockID(botID: "\(index)"), owner: testOwner(bot: "bot\(index)"))
                held.append(try #require(attempt.held))
            }
            let watches = held.map { lock in Task { try await lock.lost() } }
            try FileManager.default.removeItem(atPath: locks.path(of: LockID(botID: "7")))
            #expect(try await watches[7].value == .fileRemoved(path: locks.path(of: LockID(botID: "7"))))
            try await Task.sleep(for: .milliseconds(100))
            for (index, watch) in watches.enumerated() where index != 7 {
                watch.cancel()
                await #expect(throws: CancellationError.self) { _ = try await watch.value }
            }
            for lock in held { await lock.release() }
        }
    }
}
