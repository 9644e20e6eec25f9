import Foundation
import Glibc
import Synchronization
import Testing

@testable import BotHostCore

@Suite struct LockStatusTests {
    @Test func missingDirectoryHasNoLockFiles() throws {
        #expect(try FileTokenLock.statuses(directory: "/tmp/bothost-lock-tests-missing-\(UUID())").isEmpty)
    }

    @Test func showsHeldAndFreeLocksWithTheirHolders() async throws {
        try await withTemporaryDirectory { directory in
            let supportID = LockID(botID: "1")
            let newsID = LockID(botID: "2")
            let support = try await acquire(supportID, in: directory, bot: "support")
            try await acquire(newsID, in: directory, bot: "news").release()
            let uppercase = supportID.hex.uppercased()
            for ignored in ["notes.txt", "abc.lock", "\(uppercase).lock", "\(supportID.hex).lock.tmp"] {
                try writeFile("\(directory)/\(ignored)", [])
            }

            let statuses = try FileTokenLock.statuses(directory: directory)
            #expect(statuses.map(\.id) == [supportID, newsID].sorted())
            let held = try #require(statuses.first { $0.id == supportID })
            #expect(held.state == .held)
            #expect(held.bot == "support")
            #expect(held.pid == getpid())
            #expect(held.hostname == currentHostname())
            #expect(held.since.map { abs($0.timeIntervalSinceNow) < 60 } == true)
            let free = try #require(statuses.first { $0.id == newsID })
            #expect(
                free == LockStatus(id: newsID, bot: "news", state: .free, pid: nil, since: nil, hostname: nil))

            await support.release()
            #expect(try FileTokenLock.statuses(directory: directory).map(\.state) == [.free, .free])
        }
    }

    @Test func symlinkInTheDirectoryIsUnknown() async throws {
        try await withTemporaryDirectory { directory in
            try #require(symlink("/etc/hostname", "\(directory)/\(testLockID.hex).lock") == 0)
            let unknown = LockStatus(id: testLockID, bot: nil, state: .unknown, pid: nil, since: nil, hostname: nil)
            #expect(try FileTokenLock.statuses(directory: directory) == [unknown])
        }
    }

    /// `status` must never touch the lock: with a `LOCK_SH` probe, some of these
    /// acquisitions would find the lock held.
    @Test func readingStatusesNeverMakesAnAcquisitionFail() async throws {
        try await withTemporaryDirectory { directory in
            let heldAllAlong = try await acquire(LockID(botID: "1"), in: directory, bot: "steady")
            let cycled = LockID(botID: "2")
            try await acquire(cycled, in: directory).release()
            let contender = FileTokenLock(directory: directory)

            let reads = Counter()
            let reader = Task {
                while !Task.isCancelled {
                    let statuses = try FileTokenLock.statuses(directory: directory)
                    #expect(statuses.count == 2)
                    reads.increment()
                    await Task.yield()
                }
            }
            var refused = 0
            var acquisitions = 0
            while acquisitions < 2000 || reads.value < 100 {
                acquisitions += 1
                switch try await contender.tryAcquire(cycled, owner: testOwner()) {
                case .acquired(let held): await held.release()
                case .heldElsewhere: refused += 1
                }
                await Task.yield()
            }
            reader.cancel()
            try await reader.value
            #expect(refused == 0)
            await heldAllAlong.release()
        }
    }

    @Test func procLocksListsOurHeldLockWithOurPID() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory)
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let file = FileIdentity(try fileInfo(lock.path(of: testLockID)))
            #expect(FlockHolders.fromProcLocks()?[file] == getpid())
            #expect(FlockHolders.process(getpid(), hasOpen: file))
            #expect(!FlockHolders.process(1, hasOpen: file))
            #expect(!FlockHolders.process(0, hasOpen: file))
            await held.release()
            #expect(FlockHolders.fromProcLocks()?[file] == nil)
            #expect(!FlockHolders.process(getpid(), hasOpen: file))
        }
    }

    @Test func parsesFlockHoldersAndSkipsWaitersAndOtherLocks() {
        let table = """
            1: FLOCK  ADVISORY  WRITE 12217 fe:00:16220971 0 EOF
            1: -> FLOCK  ADVISORY  WRITE 12300 fe:00:16220971 0 EOF
            2: POSIX  ADVISORY  WRITE 10436 fe:00:5384216 1073741824 1073742335
            3: FLOCK  ADVISORY  READ 77 103:1a:42 0 EOF
            4: OFDLCK ADVISORY  WRITE -1 00:2f:1234 0 EOF
            garbage
            """
        #expect(
            FlockHolders.parseProcLocks(table) == [
                FileIdentity(major: 0xfe, minor: 0, inode: 16_220_971): 12217,
                FileIdentity(major: 0x103, minor: 0x1a, inode: 42): 77,
            ])
    }

    /// `/proc/locks` hides holders in other PID namespaces; these feed `status(of:)` the
    /// table such a process would see.
    @Test func holderHiddenFromProcLocksIsSeenThroughItsOpenFile() async throws {
        try await withTemporaryDirectory { directory in
            let lock = FileTokenLock(directory: directory)
            let held = try #require(try await lock.tryAcquire(testLockID, owner: testOwner()).held)
            let status = FileTokenLock.status(
                of: testLockID, at: lock.path(of: testLockID), kernelHolders: [:], hostname: "elsewhere")
            #expect(status.state == .held)
            #expect(status.pid == getpid())
            await held.release()
        }
    }

    @Test func lockLastHeldOnAnotherHostIsUnknownWithoutAKernelEntry() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/\(testLockID.hex).lock"
            let owner = LockOwner(
                pid: 999_999_999, bot: "remote", hostname: "other-host", startedAt: Date(timeIntervalSince1970: 0))
            try writeFile(path, owner.encodedRecord)
            func status(kernelHolders: [FileIdentity: Int32]?, hostname: String) -> LockStatus {
                FileTokenLock.status(of: testLockID, at: path, kernelHolders: kernelHolders, hostname: hostname)
            }

            #expect(
                status(kernelHolders: [:], hostname: "this-host")
                    == LockStatus(
                        id: testLockID, bot: "remote", state: .unknown, pid: 999_999_999, since: owner.startedAt,
                        hostname: "other-host"))
            #expect(status(kernelHolders: [:], hostname: "other-host").state == .free)
            #expect(status(kernelHolders: nil, hostname: "other-host").state == .unknown)
        }
    }

    @Test func rendersATable() {
        #expect(
            LockStatusReport.table(Self.sample) == """
                LOCK ID                           BOT      STATE    PID   SINCE
                0123456789abcdef0123456789abcdef  support  held     4242  2025-01-01T10:00:00Z
                fedcba9876543210fedcba9876543210  -        unknown  -     -
                ffffffffffffffffffffffffffffffff  news     free     -     -

                """)
        #expect(LockStatusReport.table([]) == "LOCK ID  BOT  STATE  PID  SINCE\n")
    }

    @Test func rendersJSONWithEveryKeyPresent() {
        #expect(
            LockStatusReport.json(Array(Self.sample.prefix(2))) == """
                [
                  {
                    "bot" : "support",
                    "hostname" : "host-1",
                    "lock_id" : "0123456789abcdef0123456789abcdef",
                    "pid" : 4242,
                    "since" : "2025-01-01T10:00:00Z",
                    "state" : "held"
                  },
                  {
                    "bot" : null,
                    "hostname" : null,
                    "lock_id" : "fedcba9876543210fedcba9876543210",
                    "pid" : null,
                    "since" : null,
                    "state" : "unknown"
                  }
                ]

                """)
        #expect(LockStatusReport.json([]) == "[\n\n]\n")
    }

    static let sample = [
        LockStatus(
            id: LockID(hex: "0123456789abcdef0123456789abcdef")!, bot: "support", state: .held, pid: 4242,
            since: Date(timeIntervalSince1970: 1_735_725_600), hostname: "host-1"),
        LockStatus(
            id: LockID(hex: "fedcba9876543210fedcba9876543210")!, bot: nil, state: .unknown, pid: nil, since: nil,
            hostname: nil),
        LockStatus(
            id: LockID(hex: "ffffffffffffffffffffffffffffffff")!, bot: "news", state: .free, pid: nil, since: nil,
            hostname: nil),
    ]
}

private final class Counter: Sendable {
    private let count = Atomic(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
