import BotHostCore
import Foundation
import TelegramBotAPI
import Testing

extension PostgresTests {
    /// `PostgresJournalStorage` against a real server: the journal's round trip across
    /// storages (hosts), dead letters, fencing of a host that lost the bot's lock, and the
    /// errors of a database that cannot be used, none of which shows the URL's password.
    @Suite struct PostgresJournalTests {
        let bot = LockID(botID: "7001")

        /// A message in `chat`, or an update of no chat.
        private func update(_ id: Int64, chat: Int64?) throws -> Update {
            let text =
                if let chat {
                    #"{"update_id":\#(id),"message":{"message_id":\#(id),"date":0,"chat":{"id":\#(chat),"type":"private"},"text":"hi"}}"#
                } else {
                    #"{"update_id":\#(id),"poll":{"id":"p\#(id)","question":"?","options":[]}}"#
                }
            return try Update(jsonText: Array(text.utf8))
        }

        /// Runs `body`, which must throw a `JournalError`, and returns it; records an issue if
        /// its text shows the password.
        private func journalError(_ body: () async throws -> Void) async -> JournalError? {
            do {
                try await body()
                Issue.record("no error was thrown")
                return nil
            } catch let error as JournalError {
                #expect(!"\(error)".contains(journalPassword), "\(error)")
                return error
            } catch {
                Issue.record("not a JournalError: \(error)")
                return nil
            }
        }

        @Test func aJournalRoundTripsAcrossHosts() async throws {
            try await PostgresServer.with { server in
                let first = try server.journalStorage()
                let journal = try await first.journal(of: bot)
                let fresh = try await journal.open()
                #expect(fresh.nextOffset == nil)
                #expect(fresh.unfinished.isEmpty)

                let updates = [try update(11, chat: 5), try update(12, chat: 6), try update(13, chat: nil)]
                let entries = try await journal.append(updates, nextOffset: 14)
                #expect(entries.map(\.updateID) == [11, 12, 13])
                #expect(entries.map(\.sequence) == entries.map(\.sequence).sorted())
                #expect(entries.map(\.chatID) == [5, 6, nil])
                let triesBegan = Date().timeIntervalSince1970
                try await journal.beginAttempt(entries[0].sequence)
                try await journal.beginAttempt(entries[1].sequence)
                journal.finish(entries[1].sequence)
                try await journal.flush()
                await journal.close()
                await first.shutdown()

                // Another host, with connections of its own, takes the bot over.
                let second = try server.journalStorage()
                let next = try await second.journal(of: bot)
                let recovery = try await next.open()
                #expect(recovery.nextOffset == 14)
                #expect(recovery.unfinished.map(\.sequence) == [entries[0].sequence, entries[2].sequence])
                #expect(recovery.unfinished.map(\.attempts) == [1, 0])
                #expect(recovery.unfinished[0].triedAt.map { $0 >= triesBegan && $0 <= Date().timeIntervalSince1970 } == true)
                #expect(recovery.unfinished[1].triedAt == nil)
                #expect(recovery.unfinished.map(\.chatID) == [5, nil])
                #expect(try await next.load(entries[2].sequence) == updates[2])
                #expect(try await next.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 1))
                #expect(try await next.prune(finishedBefore: Date() + 60) == 1)
                #expect(try await next.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 0))
                #expect(await journalError { _ = try await next.load(entries[1].sequence) } == .unknownEntry(entries[1].sequence))
                #expect(try await second.deadLetters(of: LockID(botID: "7002")) == nil)
                await next.close()
                await second.shutdown()
            }
        }

        @Test func deadLettersAreListedReplayedAndDiscarded() async throws {
            try await PostgresServer.with { server in
                let storage = try server.journalStorage()
                let journal = try await storage.journal(of: bot)
                _ = try await journal.open()
                let entries = try await journal.append(
                    [try update(21, chat: 5), try update(22, chat: 5), try update(23, chat: 6)], nextOffset: 24)
                try await journal.beginAttempt(entries[0].sequence)
                try await journal.setAside(entries[0].sequence, reason: "timed out")
                try await journal.setAside(entries[1].sequence, reason: "worker died")
                let store = try #require(try await storage.deadLetters(of: bot))
                let letters = try await store.deadLetters()
                #expect(letters.map(\.sequence) == [entries[0].sequence, entries[1].sequence])
                #expect(letters.map(\.reason) == ["timed out", "worker died"])
                #expect(letters.map(\.attempts) == [1, 0])
                #expect(letters.map(\.chatID) == [5, 5])

                // An unknown id, or one that is no dead letter, changes nothing.
                #expect(await journalError { try await store.replay([entries[0].sequence, 999_999]) } == .unknownEntry(999_999))
                #expect(
                    await journalError { try await store.discard([entries[1].sequence, entries[2].sequence]) }
                        == .unknownEntry(entries[2].sequence))
                #expect(try await store.deadLetters() == letters)

                try await store.replay([entries[0].sequence])
                #expect(try await store.deadLetters().map(\.sequence) == [entries[1].sequence])
                #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 1, finished: 0))
                let replays = try await journal.takeReplays()
                #expect(replays.map(\.sequence) == [entries[0].sequence])
                #expect(replays.map(\.attempts) == [0])
                #expect(try await journal.takeReplays().isEmpty)

                try await store.discard([entries[1].sequence])
                #expect(try await store.deadLetters().isEmpty)
                #expect(try await journal.statistics() == JournalStatistics(unfinished: 2, deadLetters: 0, finished: 0))
                await store.close()
                await journal.close()
                await storage.shutdown()
            }
        }

        @Test func aFencedJournalsWritesAreRefused() async throws {
            try await PostgresServer.with { server in
                let oldHost = try server.journalStorage()
                let newHost = try server.journalStorage()
                let old = try await oldHost.journal(of: bot)
                _ = try await old.open()
                let entries = try await old.append([try update(31, chat: 5), try update(32, chat: 6)], nextOffset: 33)
                let entry = entries[0]

                // The new holder opens the journal: the old one may write no more.
                let current = try await newHost.journal(of: bot)
                #expect(try await current.open().unfinished.map(\.sequence) == entries.map(\.sequence))
                let fenced = JournalError.fenced(place: "127.0.0.1:\(server.port)/postgres")
                #expect(await journalError { _ = try await old.append([try update(33, chat: 5)], nextOffset: 34) } == fenced)
                #expect(await journalError { try await old.beginAttempt(entry.sequence) } == fenced)
                #expect(await journalError { try await old.setAside(entry.sequence, reason: "late") } == fenced)
                #expect(await journalError { _ = try await old.prune(finishedBefore: Date() + 60) } == fenced)
                old.finish(entry.sequence)
                #expect(await journalError { try await old.flush() } == fenced)
                // A replay asked for goes to the holder only.
                try await current.setAside(entries[1].sequence, reason: "timed out")
                try await #require(try await newHost.deadLetters(of: bot)).replay([entries[1].sequence])
                #expect(await journalError { _ = try await old.takeReplays() } == fenced)
                #expect(try await current.takeReplays().map(\.sequence) == [entries[1].sequence])

                // The new holder's writes go through, and none of the old one's landed.
                try await current.beginAttempt(entry.sequence)
                let added = try await current.append([try update(33, chat: 5)], nextOffset: 34)
                #expect(try await current.statistics() == JournalStatistics(unfinished: 3, deadLetters: 0, finished: 0))
                current.finish(entry.sequence)
                try await current.flush()
                await old.close()
                await current.close()

                let after = try await newHost.journal(of: bot)
                let recovery = try await after.open()
                #expect(recovery.nextOffset == 34)
                #expect(recovery.unfinished.map(\.sequence) == [entries[1].sequence] + added.map(\.sequence))
                #expect(recovery.unfinished.map(\.attempts) == [0, 0])
                await after.close()
                await oldHost.shutdown()
                await newHost.shutdown()
            }
        }

        /// The answer to an append's `COMMIT` is lost: the connection is given up while the
        /// server commits. Appending the batch again finds its rows instead of adding them twice.
        @Test func anAppendWhoseAnswerWasLostIsNotRepeated() async throws {
            try await PostgresServer.with { server in
                // The tables first, with time to spare on a busy machine.
                let patient = try server.journalStorage()
                _ = try await patient.journal(of: bot).open()
                await patient.shutdown()
                let storage = try server.journalStorage(answerTimeout: .milliseconds(300))
                let journal = try await storage.journal(of: bot)
                _ = try await journal.open()
                // A commit slower than the answer timeout, which leaves a trace only if it commits.
                for sql in [
                    "CREATE TABLE commits (at timestamptz)",
                    """
                    CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO commits VALUES (now()); PERFORM pg_sleep(0.8); RETURN NULL; END $$
                    """,
                    """
                    CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON bothost_journal_entries
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()
                    """,
                ] {
                    _ = try await server.query(sql)
                }
                let batch = [try update(41, chat: 5)]
                let lost = await journalError { _ = try await journal.append(batch, nextOffset: 42) }
                #expect(lost?.description.contains("did not answer within") == true, "\(String(describing: lost))")
                // Dropping the trigger waits for the commit, which holds the table.
                _ = try await server.query("DROP TRIGGER slow_commit ON bothost_journal_entries")
                #expect(try await server.query("SELECT count(*)::text FROM commits") == ["1"])

                let entries = try await journal.append(batch, nextOffset: 42)
                #expect(entries.map(\.updateID) == [41])
                #expect(try await journal.statistics() == JournalStatistics(unfinished: 1, deadLetters: 0, finished: 0))
                await journal.close()
                let recovery = try await storage.journal(of: bot).open()
                #expect(recovery.unfinished.map(\.sequence) == entries.map(\.sequence))
                #expect(recovery.nextOffset == 42)
                await storage.shutdown()
            }
        }

        @Test func aDatabaseThatCannotServeFailsTheJournalClearly() async throws {
            try await PostgresServer.with { server in
                let storage = try server.journalStorage()
                _ = try await storage.journal(of: bot).open()
                await storage.shutdown()

                _ = try await server.query("UPDATE bothost_journal_schema SET version = 99 RETURNING 'x'")
                let newer = try server.journalStorage()
                let refused = await journalError { _ = try await newer.journal(of: bot).open() }
                #expect(
                    refused?.description.contains("newer bothost (journal schema 99") == true, "\(String(describing: refused))")
                await newer.shutdown()

                try await server.stop()
                let unreachable = try server.journalStorage()
                let started = ContinuousClock.now
                let error = await journalError { _ = try await unreachable.journal(of: bot).open() }
                #expect(ContinuousClock.now - started < .seconds(5))
                guard case .unreadable(let place, let problem) = error else {
                    Issue.record("expected unreadable, got \(String(describing: error))")
                    return
                }
                #expect(place == "127.0.0.1:\(server.port)/postgres")
                #expect(problem.hasPrefix("cannot connect"), "\(problem)")
                await unreachable.shutdown()
            }
        }
    }
}
