import Foundation
import Glibc
import Synchronization
import Testing

@testable import BotHostCore

/// Two `FileTokenLock` instances open the lock file twice, and `flock` excludes one open
/// file description from another even within one process: enough to test exclusion here.
@Suite struct FileTokenLockTests {
    @Test func excludesASecondHolderUntilReleased() async throws {
        try await withTemporaryDirectory { directory in
            let first = FileTokenLock(directory: directory)
            let second = FileTokenLock(directory: directory)
            let owner = testOwner()

            let held = try #require(try await first.tryAcquire(testLockID, owner: owner).held)
            #expect(held.id == testLockID)

            let holder = try await reportedHolder(in: directory)
            #expect(holder?.bot == "support")
            #expect(holder?.pid == getpid())
            #expect(holder?.hostname == owner.hostname)
            #expect(holder.map { abs($0.startedAt.timeIntervalSince(owner.startedAt)) < 1 } == true)

            await held.release()
            await held.release()
            let reacquired = try #require(try await second.tryAcquire(testLockID, owner: testOwner()).held)
            #expect(try await first.tryAcquire(testLockID, owner: owner).isHeldElsewhere)
            await reacquired.release()
        }
    }

    @Test func aLookSeesTheHolderWithoutTakingTheLock() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory)
            #expect(try await lock.look(at: testLockID, bot: "support") == .free)
            #expect(!FileManager.default.fileExists(atPath: lock.path(of: testLockID)), "a look created the lock file")

            let held = try await acquire(in: directory)
            guard case .held(let holder) = try await lock.look(at: testLockID, bot: "support") else {
                Issue.record("a held lock looked free")
                return
            }
            #expect(holder?.pid == getpid())
            await held.release()
            #expect(try await lock.look(at: testLockID, bot: "support") == .free)
            let retaken = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            await retaken.release()
        }
    }

    @Test func aLookRefusesALockFileThatIsNotARegularFile() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory)
            let path = lock.path(of: testLockID)
            #expect(symlink(directory + "/elsewhere", path) == 0)
            await #expect(throws: TokenLockError.unsafeLockFile(path: path, problem: "it is a symlink")) {
                try await lock.look(at: testLockID, bot: "support")
            }
            #expect(unlink(path) == 0 && mkfifo(path, 0o600) == 0)
            await #expect(throws: TokenLockError.unsafeLockFile(path: path, problem: "it is not a regular file")) {
                try await lock.look(at: testLockID, bot: "support")
            }
        }
    }

    @Test func differentBotsDoNotExcludeEachOther() async throws {
        try await withTemporaryDirectory { directory in
            let one = try await acquire(LockID(botID: "1"), in: directory, bot: "one")
            let two = try await acquire(LockID(botID: "2"), in: directory, bot: "two")
            await one.release()
            await two.release()
        }
    }

    @Test func lockFileHoldsTheOwnerRecordWithMode0600() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory)
            let owner = LockOwner(
                pid: getpid(), bot: "support", hostname: "host-1",
                startedAt: Date(timeIntervalSince1970: 1_735_725_600))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: owner).held)

            let path = "\(directory)/\(testLockID.hex).lock"
            #expect(lock.path(of: testLockID) == path)
            #expect(try fileInfo(path).st_mode & 0o7777 == 0o600)
            let content = try String(contentsOfFile: path, encoding: .utf8)
            #expect(
                content
                    == #"{"bot":"support","hostname":"host-1","pid":\#(getpid()),"started_at":"2025-01-01T10:00:00Z"}"#
                    + "\n")
            await held.release()
        }
    }

    @Test func existingLockFileGetsMode0600() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/\(testLockID.hex).lock"
            try writeFile(path, [])
            chmod(path, 0o644)
            let held = try await acquire(in: directory)
            #expect(try fileInfo(path).st_mode & 0o7777 == 0o600)
            await held.release()
        }
    }

    enum Garbage: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case binary, tenMegabytes, liveUnrelatedPID, pidOne, ourOwnPID

        var testDescription: String { rawValue }

        var bytes: [UInt8] {
            switch self {
            case .binary: (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            case .tenMegabytes: [UInt8](repeating: UInt8(ascii: "{"), count: 10 * 1024 * 1024)
            case .liveUnrelatedPID: record(pid: getppid())
            case .pidOne: record(pid: 1)
            case .ourOwnPID: record(pid: getpid())
            }
        }

        private func record(pid: Int32) -> [UInt8] {
            LockOwner(pid: pid, bot: "stale", hostname: currentHostname(), startedAt: Date()).encodedRecord
        }
    }

    /// The kernel lock is the truth: whatever an unlocked file says, it is free.
    @Test(arguments: Garbage.allCases)
    func garbageInAFreeLockFileChangesNothing(_ garbage: Garbage) async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/\(testLockID.hex).lock"
            try writeFile(path, garbage.bytes)
            let before = try #require(try FileTokenLock.statuses(directory: directory).first)
            #expect(before.state == .free)

            let held = try await acquire(in: directory)
            #expect(try fileInfo(path).st_size < 1024)
            let after = try #require(try FileTokenLock.statuses(directory: directory).first)
            #expect(after.state == .held)
            #expect(after.pid == getpid())
            #expect(after.bot == "support")
            #expect(try await reportedHolder(in: directory)?.bot == "support")
            await held.release()
        }
    }

    /// A holder that is not a host (`flock` by hand) wrote garbage: held, holder unknown.
    @Test func garbageInAHeldLockFileReportsAnUnknownHolder() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/\(testLockID.hex).lock"
            try writeFile(path, Garbage.binary.bytes)
            let descriptor = open(path, O_RDWR | O_CLOEXEC)
            defer { close(descriptor) }
            try #require(flock(descriptor, LOCK_EX | LOCK_NB) == 0)

            #expect(try await reportedHolder(in: directory) == nil)
            #expect(try FileTokenLock.statuses(directory: directory).map(\.state) == [.held])
        }
    }

    /// inotify tells at once: the recheck interval (the sweep without inotify) is far longer
    /// than the test waits.
    @Test func removedFileIsLostAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory, recheckInterval: .seconds(60))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let reason = try await lossAfter(held) { _ = unlink(lock.path(of: testLockID)) }
            #expect(reason == .fileRemoved(path: lock.path(of: testLockID)))

            // Why it matters: a newcomer creates a fresh file and locks it.
            let newcomer = try await acquire(in: directory)
            await newcomer.release()
            await held.release()
        }
    }

    @Test func replacedFileIsLostAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory, recheckInterval: .seconds(60))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let replacement = "\(directory)/replacement"
            try writeFile(replacement, [])
            let reason = try await lossAfter(held) { _ = rename(replacement, lock.path(of: testLockID)) }
            #expect(reason == .fileReplaced(path: lock.path(of: testLockID)))
            await held.release()
        }
    }

    @Test func movedDirectoryIsLostAtOnce() async throws {
        try await withTemporaryDirectory { parent in
            let directory = "\(parent)/locks"
            let lock = FileTokenLock(directory: directory, recheckInterval: .seconds(60))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let reason = try await lossAfter(held) { _ = rename(directory, "\(parent)/moved") }
            #expect(reason == .fileRemoved(path: lock.path(of: testLockID)))
            await held.release()
        }
    }

    @Test func releaseEndsLost() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory, recheckInterval: .milliseconds(50))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            #expect(try await lossAfter(held) { await held.release() } == .released)
        }
    }

    @Test func lostThrowsWhenCancelled() async throws {
        try await withTemporaryDirectory { directory in
            let held = try await acquire(in: directory)
            let watcher = Task { try await held.lost() }
            try await Task.sleep(for: .milliseconds(20))
            watcher.cancel()
            await #expect(throws: CancellationError.self) { try await watcher.value }
            await held.release()
        }
    }

    @Test func aCancelledLossWatchIsNotCalledAndALostLockIsReportedAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory, recheckInterval: .milliseconds(50))
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let reported = Mutex<[LockLossReason]>([])
            let watch = held.onLoss { reason in reported.withLock { $0.append(reason) } }
            watch.cancel()
            try FileManager.default.removeItem(atPath: lock.path(of: testLockID))
            // Several sweeps: none may call the cancelled watch.
            try await Task.sleep(for: .milliseconds(300))
            #expect(reported.withLock { $0 }.isEmpty)
            // The loss has happened: a new watch hears of it before `onLoss` returns.
            _ = held.onLoss { reason in reported.withLock { $0.append(reason) } }
            #expect(reported.withLock { $0 } == [.fileRemoved(path: lock.path(of: testLockID))])
            await held.release()
        }
    }

    /// Starts watching `held`, runs `change` once the watcher sleeps between checks, and
    /// returns the loss reason, expecting it soon after the change (generous slack for
    /// a loaded 2-core machine).
    private func lossAfter(
        _ held: any HeldTokenLock, _ change: () async -> Void
    ) async throws -> LockLossReason {
        let watcher = Task { try await held.lost() }
        try await Task.sleep(for: .milliseconds(120))
        let clock = ContinuousClock()
        let changed = clock.now
        await change()
        let reason = try await watcher.value
        #expect(clock.now - changed < .seconds(3))
        return reason
    }
}
