import Foundation
import Glibc
import Testing

@testable import BotHostCore

/// The lock directory and lock path must be private to this user: anything else lets
/// another user plant symlinks or swap files. (Tests run as root, which is why `chown`
/// to another user works here.)
@Suite struct LockDirectoryTests {
    @Test func missingDirectoryIsCreatedWithMode0700WithItsParents() async throws {
        try await withTemporaryDirectory { root in
            let directory = "\(root)/run/bothost/locks/"
            let held = try await acquire(in: directory)
            for path in ["\(root)/run", "\(root)/run/bothost", "\(root)/run/bothost/locks"] {
                let info = try fileInfo(path)
                #expect(info.isDirectory, "\(path)")
                #expect(info.st_mode & 0o7777 == 0o700, "\(path)")
            }
            #expect(try fileInfo("\(root)/run/bothost/locks/\(testLockID.hex).lock").isRegularFile)
            await held.release()
        }
    }

    @Test func directoryOwnedByAnotherUserIsRefused() async throws {
        try await withTemporaryDirectory { root in
            let directory = "\(root)/locks"
            try #require(mkdir(directory, 0o700) == 0 && chown(directory, 65534, 65534) == 0)
            let problem = try await refusal(of: directory, expecting: .directory)
            #expect(problem.contains("owned by uid 65534"))
        }
    }

    @Test(arguments: [0o777, 0o755, 0o750, 0o703] as [mode_t])
    func directoryOpenToOthersIsRefused(mode: mode_t) async throws {
        try await withTemporaryDirectory { root in
            let directory = "\(root)/locks"
            try #require(mkdir(directory, 0o700) == 0 && chmod(directory, mode) == 0)
            let problem = try await refusal(of: directory, expecting: .directory)
            #expect(problem.contains("0" + String(mode, radix: 8)))
            #expect(problem.contains("0700"))
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(testLockID.hex).lock") == false)
        }
    }

    @Test(arguments: ["", "/"])
    func directoryThatIsASymlinkIsRefused(suffix: String) async throws {
        try await withTemporaryDirectory { root in
            let real = "\(root)/real"
            let link = "\(root)/link"
            try #require(mkdir(real, 0o700) == 0 && symlink(real, link) == 0)
            let problem = try await refusal(of: link + suffix, expecting: .directory)
            #expect(problem.contains("symlink"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: real).isEmpty)
        }
    }

    @Test func directoryThatIsAFileIsRefused() async throws {
        try await withTemporaryDirectory { root in
            let notDirectory = "\(root)/file"
            try writeFile(notDirectory, [])
            let problem = try await refusal(of: notDirectory, expecting: .directory)
            #expect(problem.contains("not a directory"))
        }
    }

    @Test func symlinkPlantedAtTheLockPathIsRefusedAndItsTargetUntouched() async throws {
        try await withTemporaryDirectory { root in
            let directory = "\(root)/locks"
            let target = "\(root)/precious"
            try #require(mkdir(directory, 0o700) == 0)
            try writeFile(target, Array("precious\n".utf8))
            chmod(target, 0o644)
            try #require(symlink(target, "\(directory)/\(testLockID.hex).lock") == 0)

            let problem = try await refusal(of: directory, expecting: .lockFile)
            #expect(problem.contains("symlink"))
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
            #expect(try fileInfo(target).st_mode & 0o7777 == 0o644)
        }
    }

    @Test func directoryAtTheLockPathIsRefused() async throws {
        try await withTemporaryDirectory { root in
            try #require(mkdir("\(root)/\(testLockID.hex).lock", 0o700) == 0)
            let problem = try await refusal(of: root, expecting: .lockFile)
            #expect(problem.contains("directory"))
        }
    }

    @Test func fifoAtTheLockPathIsRefused() async throws {
        try await withTemporaryDirectory { root in
            try #require(mkfifo("\(root)/\(testLockID.hex).lock", 0o600) == 0)
            let problem = try await refusal(of: root, expecting: .lockFile)
            #expect(problem.contains("not a regular file"))
        }
    }

    enum Refused { case directory, lockFile }

    /// The problem a refused `tryAcquire` in `directory` names, checking that the error
    /// is of the `expected` kind and its message names the refused path.
    private func refusal(of directory: String, expecting expected: Refused) async throws -> String {
        let error = try #require(
            await #expect(throws: TokenLockError.self) {
                try await FileTokenLock(directory: directory).tryAcquire(testLockID, owner: testOwner())
            })
        let lockDirectory = PrivateDirectory(path: directory)
        switch (expected, error) {
        case (.directory, .unsafeDirectory(let path, let problem)):
            #expect(path == lockDirectory.path)
            #expect(error.description.contains(lockDirectory.path))
            return problem
        case (.lockFile, .unsafeLockFile(let path, let problem)):
            #expect(path == lockDirectory.filePath("\(testLockID.hex).lock"))
            #expect(error.description.contains(path))
            return problem
        default:
            Issue.record("expected a refused \(expected), got: \(error)")
            return ""
        }
    }
}
