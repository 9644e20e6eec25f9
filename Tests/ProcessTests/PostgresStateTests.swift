import BotHostCore
import BotHostKit
import Foundation
import TelegramBotAPI
import Testing

extension PostgresTests {
    /// The bots' state in the lock database against a real server: read back by another
    /// host, kept apart per bot in one database, fenced when the bot's lock moved, purged
    /// per bot, written by many chats at once, and added to a database of schema 1.
    @Suite struct PostgresStateTests {
        let bot = LockID(botID: "7101")
        let other = LockID(botID: "7102")

        @Test func stateRoundTripsAcrossHostsAndBotsStayApart() async throws {
            try await PostgresServer.with { server in
                let first = try server.journalStorage()
                let journal = try await first.journal(of: bot)
                _ = try await journal.open()
                let otherJournal = try await first.journal(of: other)
                _ = try await otherJournal.open()
                let state = StateStore(storage: journal.state)
                let otherState = StateStore(storage: otherJournal.state)
                try await state.set(3, for: .chat(-100123, "count"))
                try await otherState.set(30, for: .chat(-100123, "count"))
                try await state.set("fr", for: .user(42, "language"), ttl: .seconds(3600))
                try await state.set(["a", "b"], for: .chat(-100123, user: 42, "answers"))
                try await state.set(true, for: .bot("paused"))
                try await state.remove(.bot("paused"))
                try await otherState.set(true, for: .bot("paused"))
                await journal.close()
                await otherJournal.close()
                await first.shutdown()

                // Another host, with connections of its own, takes the bot over.
                let second = try server.journalStorage()
                let next = try await second.journal(of: bot)
                _ = try await next.open()
                let after = StateStore(storage: next.state)
                #expect(try await after.value(Int.self, for: .chat(-100123, "count")) == 3)
                #expect(try await after.value(String.self, for: .user(42, "language")) == "fr")
                #expect(try await after.value([String].self, for: .chat(-100123, user: 42, "answers")) == ["a", "b"])
                #expect(try await after.value(Bool.self, for: .bot("paused")) == nil, "the other bot's value")
                await next.close()
                await second.shutdown()
            }
        }

        @Test func aHostThatLostTheBotsLockWritesNoState() async throws {
            try await PostgresServer.with { server in
                let oldHost = try server.journalStorage()
                let newHost = try server.journalStorage()
                let old = try await oldHost.journal(of: bot)
                _ = try await old.open()
                let oldState = StateStore(storage: old.state)
                let key = StateKey.chat(5, "step")
                try await oldState.set(1, for: key)

                let current = try await newHost.journal(of: bot)
                _ = try await current.open()
                let fenced = "journal 127.0.0.1:\(server.port)/postgres: another host holds this bot's lock now; writes refused"
                await #expect(throws: StateStoreError.unavailable(key, problem: fenced)) { try await oldState.set(2, for: key) }
                await #expect(throws: StateStoreError.unavailable(key, problem: fenced)) { try await oldState.remove(key) }
                await #expect(throws: JournalError.fenced(place: "127.0.0.1:\(server.port)/postgres")) {
                    _ = try await old.state.purgeExpired(before: Date() + 60, limit: 10)
                }
                #expect(try await oldState.value(Int.self, for: key) == 1, "reads go on")

                let state = StateStore(storage: current.state)
                #expect(try await state.value(Int.self, for: key) == 1)
                try await state.set(2, for: key)
                #expect(try await oldState.value(Int.self, for: key) == 2)
                await old.close()
                await current.close()
                await oldHost.shutdown()
                await newHost.shutdown()
            }
        }

        @Test func expiredValuesReadAsAbsentAndArePurgedPerBotABatchAtATime() async throws {
            try await PostgresServer.with { server in
                let storage = try server.journalStorage()
                let journal = try await storage.journal(of: bot)
                _ = try await journal.open()
                let otherJournal = try await storage.journal(of: other)
                _ = try await otherJournal.open()
                let state = journal.state
                let start = Date()
                for chat in 1...5 {
                    try await state.write("\(chat)", for: .chat(Int64(chat), "n"), expiringAt: start + 60)
                }
                try await state.write("6", for: .chat(6, "n"), expiringAt: start + 120)
                try await state.write("7", for: .chat(7, "n"), expiringAt: nil)
                try await otherJournal.state.write("x", for: .chat(1, "n"), expiringAt: start + 60)
                #expect(try await state.read(.chat(1, "n"), at: start + 59.9) == "1")
                #expect(try await state.read(.chat(1, "n"), at: start + 60) == nil)

                #expect(try await state.purgeExpired(before: start + 61, limit: 2) == 2)
                #expect(try await state.purgeAllExpired(before: start + 61, batch: 2) == 3)
                #expect(try await state.purgeAllExpired(before: start + 61) == 0)
                #expect(try await state.read(.chat(6, "n"), at: start + 61) == "6")
                #expect(try await state.read(.chat(7, "n"), at: start + 1_000_000) == "7")
                #expect(try await otherJournal.state.read(.chat(1, "n"), at: start) == "x", "another bot's values stay")
                #expect(try await server.query("SELECT count(*)::text FROM bothost_state_values") == ["3"])
                await journal.close()
                await otherJournal.close()
                await storage.shutdown()
            }
        }

        /// As the dispatcher runs them: each chat's updates one at a time, chats at once,
        /// on the host's few journal connections.
        @Test func handlersOfManyChatsReadAndWriteAtOnce() async throws {
            try await PostgresServer.with { server in
                let storage = try server.journalStorage()
                let journal = try await storage.journal(of: bot)
                _ = try await journal.open()
                let state = StateStore(storage: journal.state)
                try await withThrowingTaskGroup { group in
                    for chat in Int64(1)...64 {
                        group.addTask {
                            for _ in 1...3 {
                                let count = try await state.value(Int.self, for: .chat(chat, "count")) ?? 0
                                try await state.set(count + 1, for: .chat(chat, "count"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for chat in Int64(1)...64 {
                    #expect(try await state.value(Int.self, for: .chat(chat, "count")) == 3, "chat \(chat)")
                }
                await journal.close()
                await storage.shutdown()
            }
        }

        /// A database an earlier bothost made (journal schema 1, no state table) keeps its
        /// journals and gains the state table when a host of this version first connects.
        @Test func aDatabaseOfSchemaOneGainsStateAndKeepsItsJournals() async throws {
            try await PostgresServer.with { server in
                let earlier = try server.journalStorage()
                let earlierJournal = try await earlier.journal(of: bot)
                _ = try await earlierJournal.open()
                _ = try await earlierJournal.append([try Update(jsonText: Array(#"{"update_id":5}"#.utf8))], nextOffset: 6)
                await earlierJournal.close()
                await earlier.shutdown()
                _ = try await server.query("DROP TABLE bothost_state_values")
                _ = try await server.query("ALTER TABLE bothost_journal_entries DROP COLUMN tried_at")
                _ = try await server.query("UPDATE bothost_journal_schema SET version = 1 RETURNING 'x'")

                let storage = try server.journalStorage()
                let journal = try await storage.journal(of: bot)
                let recovery = try await journal.open()
                #expect(recovery.nextOffset == 6)
                #expect(recovery.unfinished.map(\.updateID) == [5])
                let state = StateStore(storage: journal.state)
                try await state.set("kept", for: .chat(7, "note"))
                #expect(try await state.value(String.self, for: .chat(7, "note")) == "kept")
                #expect(try await server.query("SELECT version::text FROM bothost_journal_schema") == ["3"])
                await journal.close()
                await storage.shutdown()
            }
        }
    }
}
