import BotAPIEmulator
import BotHostKit
import Foundation
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// A lock lost while a stopping bot drains its handlers: the bot must not confirm its
/// offset afterwards, as that poll could end the new holder's with a 409.
@Suite struct LockLossAtStopTests {
    @Test func aLockLostDuringTheDrainSendsNoConfirmingPoll() async throws {
        let token = uniqueToken()
        let name = "drain-\(token.botID)"
        try await withHost(
            bots: bot(name, token), extra: "shutdown: { drain_timeout: 2s }", tokens: [token]
        ) { fixture in
            // A handler that never returns holds the drain for its 2 s; without the loss the
            // bot would then confirm its offset (by the last poll, or a poll of its own).
            fixture.emulator.sendText("hang", to: token)
            #expect(
                await fixture.waitUntil {
                    let calls = fixture.emulator.getUpdatesCalls(of: token)
                    return calls.count >= 2 && calls.last?.outcome == .pending
                })
            let stopRequested = ContinuousClock.now
            let stopping = Task { await fixture.stop() }
            #expect(await fixture.waitUntil { fixture.state(of: name) == .stopping })
            for file in try FileManager.default.contentsOfDirectory(atPath: fixture.lockDirectory)
            where file.hasSuffix(".lock") {
                try FileManager.default.removeItem(atPath: "\(fixture.lockDirectory)/\(file)")
            }
            _ = await stopping.value
            #expect(!fixture.logLines(containing: "lock lost").isEmpty)
            let pollsAfterStop = fixture.emulator.getUpdatesCalls(of: token).filter { $0.receivedAt > stopRequested }
            #expect(pollsAfterStop.isEmpty, "\(pollsAfterStop)")
            #expect(fixture.logLines(containing: "offset confirmed").isEmpty)
        }
    }
}
