import BotAPIEmulator
import BotHostKit
import BotHostTesting
import TelegramBotAPI
import Testing

@testable import BotHostCore

@Suite struct MaxBotsTests {
    @Test func aHostPollsAtMostMaxBotsAndTheRestStandBy() async throws {
        let tokens = (0..<3).map { _ in uniqueToken() }
        func entries(_ indices: [Int]) -> String {
            indices.map { "  - { name: b\($0), token: \"\(tokens[$0].secretValue)\", plugin: recording }" }.joined(
                separator: "\n")
        }
        try await withHost(
            bots: entries([0, 1, 2]), extra: "max_bots: 2\non_locked: wait", clock: ContinuousClock(), tokens: tokens
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.host.botStatuses.values.filter { $0.state == .polling }.count == 2 })
            let waiting = try #require(fixture.host.botStatuses.first { $0.value.state == .standby }?.key)
            let polling = fixture.host.botStatuses.filter { $0.value.state == .polling }.keys.sorted()
            let waitingIndex = Int(waiting.dropFirst())!
            #expect(fixture.emulator.getUpdatesCalls(of: tokens[waitingIndex]).isEmpty)

            let kept = [Int(polling[0].dropFirst())!, waitingIndex]
            await fixture.host.reload(try fixture.manifest(bots: entries(kept), extra: "max_bots: 2\non_locked: wait"))
            #expect(await fixture.waitUntil { fixture.state(of: waiting) == .polling })
            #expect(fixture.host.botStatuses.values.filter { $0.state == .polling }.count == 2)
            #expect(await fixture.stop() == .success)
        }
    }
}
