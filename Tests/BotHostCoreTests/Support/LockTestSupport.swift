import Foundation
import Glibc
import Testing

@testable import BotHostCore

/// Runs `body` with a fresh directory under /tmp (mode 0700, as `mkdtemp` makes it) and
/// removes the directory afterwards.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    var template = Array("/tmp/bothost-lock-tests-XXXXXX".utf8CString)
    let path = try template.withUnsafeMutableBufferPointer { buffer in
        guard let created = mkdtemp(buffer.baseAddress!) else { throw POSIXError(.init(rawValue: errno)!) }
        return String(cString: created)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

let testLockID = LockID(botID: "123456789")

func testOwner(bot: String = "support") -> LockOwner {
    LockOwner.currentProcess(bot: bot)
}

extension LockAttempt {
    /// The held lock, or `nil` when someone else holds it.
    var held: (any HeldTokenLock)? {
        if case .acquired(let held) = self { held } else { nil }
    }

    var isHeldElsewhere: Bool {
        if case .heldElsewhere = self { true } else { false }
    }
}

/// `lstat` of `path`, failing the test when there is nothing there.
func fileInfo(_ path: String) throws -> stat {
    try #require(FileStatus.ofEntry(atPath: path), "lstat \(path): errno \(errno)")
}

/// Writes `bytes` to `path` as a plain 0600 file, replacing what was there.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let created = FileManager.default.createFile(
        atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
    try #require(created, "could not write \(path)")
}

/// Takes `id` with a new `FileTokenLock` in `directory`, failing the test when it is held
/// elsewhere.
func acquire(
    _ id: LockID = testLockID, in directory: String, bot: String = "support"
) async throws -> any HeldTokenLock {
    try #require(try await FileTokenLock(directory: directory).tryAcquire(id, owner: testOwner(bot: bot)).held)
}

/// The holder that a new `FileTokenLock` in `directory` reports for `id`, failing the test
/// when it takes the lock instead.
func reportedHolder(of id: LockID = testLockID, in directory: String) async throws -> LockOwner? {
    let attempt = try await FileTokenLock(directory: directory).tryAcquire(id, owner: testOwner(bot: "contender"))
    guard case .heldElsewhere(let holder) = attempt else {
        Issue.record("a second instance took a held lock")
        return nil
    }
    return holder
}
