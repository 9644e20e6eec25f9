import BotHostKit
import Foundation
import Synchronization
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// A journal that costs nothing, so that only the dispatcher's own work is measured.
private final class FreeJournal: UpdateJournal {
    let update: Update

    init() throws {
        update = try Update(
            jsonText: Data(
                #"{"update_id":1,"message":{"message_id":1,"chat":{"id":7,"type":"private"},"date":0,"text":"m"}}"#.utf8))
    }

    func open() async throws(JournalError) -> JournalRecovery { JournalRecovery(nextOffset: nil, unfinished: []) }
    func append(_ updates: [Update], nextOffset: Int64) async throws(JournalError) -> [JournalEntry] { [] }
    func load(_ sequence: Int64) async throws(JournalError) -> Update { update }
    func latestUpdateIDs(count: Int) async throws(JournalError) -> [Int64] { [] }
    func beginAttempt(_ sequence: Int64) async throws(JournalError) {}
    func finish(_ sequence: Int64) {}
    func undoAttempt(_ sequence: Int64) {}
    func setAside(_ sequence: Int64, reason: String) async throws(JournalError) {}
    func flush() async throws(JournalError) {}
    func takeReplays() async throws(JournalError) -> [JournalEntry] { [] }
    func prune(finishedBefore date: Date) async throws(JournalError) -> Int { 0 }
    func statistics() async throws(JournalError) -> JournalStatistics {
        JournalStatistics(unfinished: 0, deadLetters: 0, finished: 0)
    }
    var state: any JournalStateStorage { NoState() }
    func close() async {}
}

/// State that the dispatcher never touches.
private struct NoState: JournalStateStorage {
    func read(_ key: StateKey, at now: Date) async throws(JournalError) -> String? { nil }
    func write(_ json: String, for key: StateKey, expiringAt expiry: Date?) async throws(JournalError) {}
    func remove(_ key: StateKey) async throws(JournalError) {}
    func purgeExpired(before now: Date, limit: Int) async throws(JournalError) -> Int { 0 }
}

/// A backlog of one chat (a busy group) sits in one lane: every update of it is handed
/// out, in order. (Handing out is a deque's work, linear in the backlog; `bothost-bench`
/// measures speed, not this test.)
@Suite struct UpdateDispatcherBacklogTests {
    @Test func oneChatsBacklogIsWorkedOffInOrder() async throws {
        let journal = try FreeJournal()
        let handled = Mutex(0)
        let order = Mutex<[Int64]>([])
        let dispatcher = UpdateDispatcher(
            bot: "bot", journal: journal, suspects: SuspectGate(), maxConcurrent: 64, maxAttempts: 3,
            handlerTimeout: .seconds(60),
            handler: { _ in handled.withLock { $0 += 1 } },
            onResult: { entry, _ in order.withLock { $0.append(entry.sequence) } },
            onJournalFailure: { _ in })
        let backlog = 5_000
        let entries = (1...backlog).map {
            JournalEntry(sequence: Int64($0), updateID: Int64($0), chatID: 7, attempts: 0, update: nil)
        }
        dispatcher.enqueue(entries)
        await dispatcher.waitUntilIdle(atMost: .seconds(120))
        #expect(handled.withLock { $0 } == backlog)
        #expect(order.withLock { $0 } == (1...Int64(backlog)).map { $0 })
    }

    /// Of a bot's updates that were running when its process died, the fewest-tried is
    /// tried first: an update merely in flight beside a poison update goes before it.
    @Test func theFewestTriedSuspectGoesFirst() async throws {
        let order = Mutex<[Int64]>([])
        let dispatcher = UpdateDispatcher(
            bot: "bot", journal: try FreeJournal(), suspects: SuspectGate(), maxConcurrent: 64, maxAttempts: 5,
            handlerTimeout: .seconds(60), handler: { _ in },
            onResult: { entry, _ in order.withLock { $0.append(entry.sequence) } },
            onJournalFailure: { _ in })
        // Of those tried as often, the one begun last goes last: it most likely killed it.
        let suspects = [
            JournalEntry(sequence: 1, updateID: 1, chatID: 7, attempts: 2, triedAt: 1_000.0, update: nil),
            JournalEntry(sequence: 2, updateID: 2, chatID: 8, attempts: 1, triedAt: 1_000.2, update: nil),
            JournalEntry(sequence: 3, updateID: 3, chatID: 9, attempts: 1, triedAt: 1_000.1, update: nil),
        ]
        dispatcher.enqueue(suspects, isolated: true)
        await dispatcher.waitUntilIdle(atMost: .seconds(60))
        #expect(order.withLock { $0 } == [3, 2, 1])
    }

    /// The work queued so far is done once as many entries have finished: work queued
    /// later does not hold it back.
    @Test func queuedWorkIsDoneOnceItsHandlersReturned() async throws {
        let (early, late) = (Latch(), Latch())
        let dispatcher = UpdateDispatcher(
            bot: "bot", journal: try FreeJournal(), suspects: SuspectGate(), maxConcurrent: 64, maxAttempts: 3,
            handlerTimeout: .seconds(60), handler: { update in await (update.updateID <= 3 ? early : late).wait() },
            onResult: { _, _ in }, onJournalFailure: { _ in })
        func entry(_ id: Int64) throws -> JournalEntry {
            let json =
                #"{"update_id":\#(id),"message":{"message_id":1,"chat":{"id":\#(id),"type":"private"},"date":0,"text":"m"}}"#
            return JournalEntry(
                sequence: id, updateID: id, chatID: id, attempts: 0, update: try Update(jsonText: Data(json.utf8)))
        }
        dispatcher.enqueue(try (1...3).map(entry))
        let returned = Mutex(false)
        let queued = dispatcher.queuedCount
        let done = Task {
            await dispatcher.waitUntil(finishedAtLeast: queued)
            returned.withLock { $0 = true }
        }
        dispatcher.enqueue([try entry(4)])
        #expect(await eventually { early.entered.count == 3 && late.entered.count == 1 })
        #expect(!returned.withLock { $0 }, "three handlers are still running")
        early.open()
        await done.value
        #expect(dispatcher.unfinishedCount == 1, "the one queued later still runs")
        late.open()
        await dispatcher.waitUntilIdle(atMost: .seconds(60))
    }

    /// Waits (five seconds at most) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<5000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }
}
