import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import Synchronization
import Testing

@testable import BotHostCore

/// What Telegram (or the network) does that is odd but real, and must never stop a bot.
@Suite struct WireFaultTests {
    /// An update that does not fit the model, and the field its log line must name.
    struct OddUpdate: Sendable, CustomTestStringConvertible {
        let kind: String
        let payload: JSONValue
        let field: String
        var testDescription: String { field }
    }

    static let oddUpdates: [OddUpdate] = {
        let alice: JSONValue = ["id": 42, "is_bot": false, "first_name": "Alice"]
        let chat: JSONValue = ["id": 42, "type": "private"]
        return [
            OddUpdate(
                kind: "message",
                payload: ["message_id": 7, "from": ["id": 42, "first_name": "Alice"], "chat": chat, "date": 1, "text": "odd"],
                field: "message.from.is_bot: missing"),
            OddUpdate(
                kind: "message", payload: ["message_id": 7, "from": alice, "date": 1, "text": "odd"],
                field: "message.chat: missing"),
            OddUpdate(
                kind: "message", payload: ["message_id": "7", "from": alice, "chat": chat, "date": 1, "text": "odd"],
                field: "message.message_id: expected Int64, found a string"),
            OddUpdate(
                kind: "callback_query", payload: ["id": "q1", "chat_instance": "1", "data": "odd"],
                field: "callback_query.from: missing"),
        ]
    }()

    /// One odd update between two good ones: the good ones are handled, the odd one is
    /// reported by `update_id` and the field that did not fit, and polling goes on.
    @Test(arguments: oddUpdates)
    func anUpdateThatDoesNotFitHoldsNothingBack(_ odd: OddUpdate) async throws {
        let token = uniqueToken()
        let name = "odd-\(token.botID)"
        let oddID = Mutex<Int64>(0)
        try await withHost(
            bots: bot(name, token), tokens: [token],
            prepare: { emulator in
                emulator.sendText("one", to: token)
                oddID.withLock { $0 = emulator.injectUpdate(kind: odd.kind, payload: odd.payload, to: token) }
                emulator.sendText("two", to: token)
            }
        ) { fixture in
            let emulator = fixture.emulator
            let oddID = oddID.withLock { $0 }
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: name) == ["one", "two"] })
            let reports = fixture.logLines(containing: "update does not fit the Bot API model")
            #expect(reports.count == 1)
            #expect(reports.first?.contains("update_id=\(oddID)") == true)
            #expect(reports.first?.contains(odd.field) == true, "\(reports)")
            emulator.sendText("three", to: token)
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: name) == ["one", "two", "three"] })
            #expect(fixture.state(of: name) == .polling)
            #expect(await fixture.stop() == .success)
        }
    }

    /// A Bot API server that cannot be reached is reported at once: at the first refused
    /// connection, not after the HTTP client's connect timeout (10 s) or inner retries. The
    /// bot's clock never moves here, so the line can only come from the first attempt.
    @Test func theFirstRefusedConnectionIsLoggedAtOnce() async throws {
        let token = uniqueToken()
        let started = ContinuousClock.now
        try await withHost(
            bots: bot("refused-\(token.botID)", token, extra: "api_url: \"http://127.0.0.1:1\""), clock: ManualClock(),
            tokens: [token]
        ) { fixture in
            #expect(await fixture.waitUntil(timeout: .seconds(5)) { !fixture.logLines(containing: "getMe failed").isEmpty })
            let elapsed = ContinuousClock.now - started
            print("first refused connection logged after \(elapsed)")
            #expect(elapsed < .seconds(5))
            let line = try #require(fixture.logLines(containing: "getMe failed").first)
            #expect(line.hasPrefix("warning"), "\(line)")
            #expect(line.contains("attempt 1/5"))
            #expect(line.contains("Connection refused") || line.contains("connection refused"), "\(line)")
            #expect(await fixture.stop() == .success)
        }
    }

    /// A confirmation that fails once at shutdown is tried again, so the handled updates
    /// do not come again after a restart. (A stop more than a second after the pending poll
    /// was sent needs no confirmation: the server surely has that poll's offset.)
    @Test func aFailedOffsetConfirmationIsRetried() async throws {
        let token = uniqueToken()
        let name = "confirm-\(token.botID)"
        try await withHost(bots: bot(name, token), tokens: [token]) { fixture in
            fixture.emulator.sendText("hello", to: token)
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: name) == ["hello"] })
            #expect(await fixture.waitUntil { fixture.emulator.getUpdatesCalls(of: token).last?.outcome == .pending })
            let pollReceived = try #require(fixture.emulator.getUpdatesCalls(of: token).last?.receivedAt)
            fixture.emulator.injectFault(.serverError(status: 502), method: "getUpdates", for: token)
            #expect(await fixture.stop() == .success)
            // A poll on its way for a second or more surely confirmed the offset: no call then.
            // The host counts from when it sent the poll, a moment before the emulator got it
            // (more than 100 ms on a loaded machine), hence the margin.
            if ContinuousClock.now - pollReceived < .milliseconds(500) {
                #expect(fixture.logLines(containing: "could not confirm the offset (try 1/3)").count == 1)
            }
            #expect(fixture.logLines(containing: "offset confirmed").count == 1)
            #expect(fixture.emulator.pendingUpdateIDs(of: token).isEmpty)
        }
    }
}
