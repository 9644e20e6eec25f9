import Foundation
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// The SQLite journal on its own: what a lock holder finds after a crash, marks written
/// by group commit, dead letters, replays, pruning, and files it must refuse.
@Suite struct SQLiteJournalTests {
    private func withJournalFile<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "bothost-journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(directory + "/test.journal")
    }

    private func updates(_ ids: ClosedRange<Int64>, chat: Int64 = 7) throws -> [Update] {
        try ids.map { id in
            try Update(
                jsonText: Data(
                    #"{"update_id":\#(id),"message":{"message_id":\#(id),"chat":{"id":\#(chat),"type":"private"},"date":0,"text":"m\#(id)"}}"#
                        .utf8))
        }
    }

    @Test func whatWasNotFinishedIsFoundAgainWithItsTriesAndTheOffset() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            #expect(try await journal.open().nextOffset == nil)
            let entries = try await journal.append(updates(100...103), nextOffset: 104)
            #expect(entries.map(\.updateID) == [100, 101, 102, 103])
            #expect(entries.allSatisfy { $0.chatID == 7 && $0.update != nil })
            let triesBegan = Date().timeIntervalSince1970
            for entry in entries.prefix(3) { try await journal.beginAttempt(entry.sequence) }
            journal.finish(entries[0].sequence)
            journal.finish(entries[1].sequence)
            try await journal.flush()
            await journal.close()

            let reopened = try SQLiteJournal(path: path)
            let recovery = try await reopened.open()
            #expect(recovery.nextOffset == 104)
            #expect(recovery.unfinished.map(\.updateID) == [102, 103])
            #expect(recovery.unfinished.map(\.attempts) == [1, 0])
            // When the last try began: it orders the suspects of a crash (SuspectOrder).
            #expect(recovery.unfinished[0].triedAt.map { $0 >= triesBegan && $0 <= Date().timeIntervalSince1970 } == true)
            #expect(recovery.unfinished[1].triedAt == nil)
            let update = try await reopened.load(recovery.unfinished[0].sequence)
            #expect(update.message?.text == "m102")
            #expect(try await reopened.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 2))
            await reopened.close()
        }
    }

    @Test func deadLettersAreListedReplayedAndDiscardedByIDOnly() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let entries = try await journal.append(updates(1...3), nextOffset: 4)
            try await journal.setAside(entries[0].sequence, reason: "its handler timed out in each of 3 tries")
            try await journal.setAside(entries[1].sequence, reason: "the process ended")
            let letters = try await journal.deadLetters()
            #expect(letters.map(\.updateID) == [1, 2])
            #expect(letters[0].reason == "its handler timed out in each of 3 tries")

            await #expect(throws: JournalError.unknownEntry(entries[2].sequence)) {
                try await journal.replay([entries[0].sequence, entries[2].sequence])
            }
            #expect(try await journal.takeReplays().isEmpty, "nothing changes when one id is unknown")
            try await journal.replay([entries[0].sequence])
            let replays = try await journal.takeReplays()
            #expect(replays.map(\.updateID) == [1])
            #expect(replays.first?.attempts == 0)
            #expect(try await journal.takeReplays().isEmpty)

            try await journal.discard([entries[1].sequence])
            #expect(try await journal.deadLetters().isEmpty)
            #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 0))
            await journal.close()
        }
    }

    /// The host looks for replays cheaply (the files' stamps) and must still see one that
    /// another process (`bothost dead-letters`) asked for after its last look.
    @Test func aReplayAskedByAnotherConnectionIsSeenAfterAnIdleLook() async throws {
        try await withJournalFile { path in
            let host = try SQLiteJournal(path: path)
            _ = try await host.open()
            let entries = try await host.append(updates(1...2), nextOffset: 3)
            try await host.setAside(entries[0].sequence, reason: "dead")
            #expect(try await host.takeReplays().isEmpty)
            #expect(try await host.takeReplays().isEmpty)
            #expect(try await host.statistics().deadLetters == 1)

            let command = try SQLiteJournal(path: path)
            try await command.replay([entries[0].sequence])
            await command.close()
            #expect(try await host.takeReplays().map(\.updateID) == [1])
            #expect(try await host.statistics().deadLetters == 0)
            await host.close()
        }
    }

    /// A call that comes while housekeeping closes the connection (off the caller's
    /// thread) waits for the close and opens the journal again: none fails, none is lost.
    @Test func callsDuringAnIdleCloseWaitForItAndOpenTheJournalAgain() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            for id in Int64(1)...50 {
                await journal.releaseIfIdle()
                async let closing: Void = journal.releaseIfIdle()
                _ = try await journal.append(updates(id...id), nextOffset: id + 1)
                await closing
            }
            #expect(try await journal.statistics().unfinished == 50)
            await journal.close()
            let reopened = try SQLiteJournal(path: path)
            #expect(try await reopened.open().unfinished.map(\.updateID) == Array(1...50))
            await reopened.close()
        }
    }

    /// Housekeeping closes the connection after a pass in which nothing used it: the
    /// journal's files are then closed, and the journal reads and writes as before, opening
    /// them again.
    @Test func aJournalClosedWhileIdleReadsAndWritesAsBefore() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let entries = try await journal.append(updates(1...3), nextOffset: 4)
            await journal.releaseIfIdle()
            #expect(openDescriptors(of: path) > 0, "used since the last pass: stays open")
            await journal.releaseIfIdle()
            #expect(openDescriptors(of: path) == 0, "idle for a pass: closed")
            try await journal.beginAttempt(entries[0].sequence)
            journal.finish(entries[0].sequence)
            try await journal.flush()
            #expect(openDescriptors(of: path) > 0)
            await journal.releaseIfIdle()
            await journal.releaseIfIdle()
            #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 1))
            #expect(try await journal.takeReplays().isEmpty)
            await journal.releaseIfIdle()
            await journal.releaseIfIdle()
            // The close's checkpoint changed the files, not what they hold: nothing to read.
            #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 1))
            #expect(try await journal.takeReplays().isEmpty)
            #expect(openDescriptors(of: path) == 0, "housekeeping's looks at an idle journal open nothing")
            #expect(try await journal.load(entries[1].sequence).message?.text == "m2")
            #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 1))
            let more = try await journal.append(updates(4...4), nextOffset: 5)
            #expect(more.map(\.updateID) == [4])
            await journal.close()

            let reopened = try SQLiteJournal(path: path)
            let recovery = try await reopened.open()
            #expect(recovery.nextOffset == 5)
            #expect(recovery.unfinished.map(\.updateID) == [2, 3, 4])
            await reopened.close()
        }
    }

    @Test func finishedUpdatesArePrunedAfterTheirRetentionAndDeadLettersStay() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let entries = try await journal.append(updates(1...3), nextOffset: 4)
            journal.finish(entries[0].sequence)
            try await journal.setAside(entries[1].sequence, reason: "dead")
            try await journal.flush()
            #expect(try await journal.prune(finishedBefore: Date().addingTimeInterval(-60)) == 0)
            #expect(try await journal.prune(finishedBefore: Date().addingTimeInterval(60)) == 1)
            #expect(try await journal.statistics() == JournalStatistics(unfinished: 1, deadLetters: 1, finished: 0))
            await journal.close()
        }
    }

    @Test func anUpdateThatDoesNotFitTheModelIsKeptWhole() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let odd = try Update(jsonText: Data(#"{"update_id":9,"message":{"chat":"not an object"},"x":[1,2.5,null]}"#.utf8))
            let entries = try await journal.append([odd], nextOffset: 10)
            let loaded = try await journal.load(entries[0].sequence)
            #expect(loaded.raw == odd.raw)
            #expect(loaded.decodingProblem != nil)
            await journal.close()
        }
    }

    @Test func aFileThatIsNoJournalIsRefusedNamingItsPath() async throws {
        try await withJournalFile { path in
            try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
            #expect(throws: JournalError.unreadable(place: path, "not a journal file, or damaged")) {
                try SQLiteJournal(path: path)
            }
        }
    }

    @Test func theJournalFilesAreModeSixHundred() async throws {
        try await withJournalFile { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.append(updates(1...1), nextOffset: 2)
            for file in [path, path + "-wal"] {
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file)")
            }
            await journal.close()
        }
    }
}

/// How many of this process's file descriptors are open on the journal at `path` or its
/// `-wal` and `-shm`.
private func openDescriptors(of path: String) -> Int {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return descriptors.count { descriptor in
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) ?? ""
        return target.hasPrefix(path)
    }
}
