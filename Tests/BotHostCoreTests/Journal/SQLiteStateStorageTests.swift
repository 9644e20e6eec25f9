import BotHostKit
import Foundation
import GRDB
import Testing

@testable import BotHostCore

/// A bot's state in its SQLite journal file: what a restarted host reads back, expiry and
/// purging, handlers of many chats at once, journals written before state existed, and a
/// store used after its journal closed.
@Suite struct SQLiteStateStorageTests {
    private func withJournalPath<T>(_ body: (String) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { directory in try await body(directory + "/bot.journal") }
    }

    @Test func stateOutlivesItsJournalClosedAndOpenedAgain() async throws {
        try await withJournalPath { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let state = StateStore(storage: journal.state)
            try await state.set(3, for: .chat(-100123, "count"))
            try await state.set("fr", for: .user(42, "language"), ttl: .seconds(3600))
            try await state.set(["a", "b"], for: .chat(-100123, user: 42, "answers"))
            try await state.set(true, for: .bot("paused"))
            try await state.remove(.bot("paused"))
            await journal.close()

            let reopened = try SQLiteJournal(path: path)
            _ = try await reopened.open()
            let after = StateStore(storage: reopened.state)
            #expect(try await after.value(Int.self, for: .chat(-100123, "count")) == 3)
            #expect(try await after.value(String.self, for: .user(42, "language")) == "fr")
            #expect(try await after.value([String].self, for: .chat(-100123, user: 42, "answers")) == ["a", "b"])
            #expect(try await after.value(Bool.self, for: .bot("paused")) == nil)
            #expect(try await after.value(Int.self, for: .user(-100123, "count")) == nil, "a user is not a chat")
            await reopened.close()
        }
    }

    @Test func expiredValuesReadAsAbsentAndArePurgedABatchAtATime() async throws {
        try await withJournalPath { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let state = journal.state
            let start = Date()
            for chat in 1...5 {
                try await state.write("\(chat)", for: .chat(Int64(chat), "n"), expiringAt: start + 60)
            }
            try await state.write("6", for: .chat(6, "n"), expiringAt: start + 120)
            try await state.write("7", for: .chat(7, "n"), expiringAt: nil)
            #expect(try await state.read(.chat(1, "n"), at: start + 59.9) == "1")
            #expect(try await state.read(.chat(1, "n"), at: start + 60) == nil)

            #expect(try await state.purgeExpired(before: start + 61, limit: 2) == 2)
            #expect(try await state.purgeAllExpired(before: start + 61, batch: 2) == 3)
            #expect(try await state.purgeAllExpired(before: start + 61) == 0)
            #expect(try await state.read(.chat(6, "n"), at: start + 61) == "6")
            #expect(try await state.read(.chat(7, "n"), at: start + 1_000_000) == "7")
            await journal.close()

            let rows = try await DatabaseQueue(path: path).read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM state_values")
            }
            #expect(rows == 2)
        }
    }

    /// As the dispatcher runs them: each chat's updates one at a time, chats at once.
    @Test func handlersOfManyChatsReadAndWriteAtOnce() async throws {
        try await withJournalPath { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let state = StateStore(storage: journal.state)
            try await withThrowingTaskGroup { group in
                for chat in Int64(1)...200 {
                    group.addTask {
                        for _ in 1...5 {
                            let count = try await state.value(Int.self, for: .chat(chat, "count")) ?? 0
                            try await state.set(count + 1, for: .chat(chat, "count"))
                            try await state.set(chat, for: .bot("last chat"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            for chat in Int64(1)...200 {
                #expect(try await state.value(Int.self, for: .chat(chat, "count")) == 5, "chat \(chat)")
            }
            #expect(try await state.value(Int64.self, for: .bot("last chat")).map { (1...200).contains($0) } == true)
            await journal.close()
        }
    }

    /// A journal an earlier bothost wrote (schema 1: no state, no try times) keeps its
    /// updates and offset, and gains both.
    @Test func aJournalOfSchemaOneGainsStateAndKeepsItsUpdates() async throws {
        try await withJournalPath { path in
            let earlier = try DatabaseQueue(path: path)
            try await earlier.write { db in
                try db.execute(sql: SQLiteJournal.migrations[0] + "PRAGMA user_version = 1;")
                try db.execute(
                    sql: "INSERT INTO entries (update_id, chat_id, payload, fetched_at) VALUES (5, 7, ?, 0)",
                    arguments: [Data(#"{"update_id":5}"#.utf8)])
                try db.execute(sql: "INSERT INTO cursor (id, next_offset) VALUES (1, 6)")
            }
            try earlier.close()

            let journal = try SQLiteJournal(path: path)
            let recovery = try await journal.open()
            #expect(recovery.nextOffset == 6)
            #expect(recovery.unfinished.map(\.updateID) == [5])
            let state = StateStore(storage: journal.state)
            try await state.set("kept", for: .chat(7, "note"))
            #expect(try await state.value(String.self, for: .chat(7, "note")) == "kept")
            #expect(recovery.unfinished[0].triedAt == nil)
            try await journal.beginAttempt(recovery.unfinished[0].sequence)
            try await journal.flush()
            await journal.close()
            let reopened = try SQLiteJournal(path: path)
            #expect(try await reopened.open().unfinished.map { $0.attempts == 1 && $0.triedAt != nil } == [true])
            await reopened.close()

            let version = try await DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
            #expect(version == SQLiteJournal.schemaVersion)
        }
    }

    /// A task a plugin left running past its bot's stop: an error, not a crash.
    @Test func stateUsedAfterItsJournalClosedFailsNamingTheFile() async throws {
        try await withJournalPath { path in
            let journal = try SQLiteJournal(path: path)
            _ = try await journal.open()
            let state = StateStore(storage: journal.state)
            await journal.close()
            let key = StateKey.chat(1, "count")
            let attempts: [@Sendable () async throws -> Void] = [
                { try await state.set(1, for: key) },
                { _ = try await state.value(Int.self, for: key) },
                { try await state.remove(key) },
            ]
            for attempt in attempts {
                let error = await #expect(throws: StateStoreError.self) { try await attempt() }
                guard case .unavailable(key, let problem)? = error else {
                    Issue.record("expected unavailable, got \(String(describing: error))")
                    continue
                }
                #expect(problem.contains(path), "\(problem)")
            }
        }
    }
}
