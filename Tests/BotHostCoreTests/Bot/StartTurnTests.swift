import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Synchronization
import Testing

@testable import BotHostCore

/// Bots start a few at a time (``HostEnvironment/starts``); a stop reaches the bots that
/// wait for their turn.
@Suite struct StartTurnTests {
    /// A plugin whose `init` waits, deaf to cancellation, until the test lets it go.
    struct Stuck: BotPlugin {
        static let name = "stuck"
        static let gate = Latch()

        init(context: BotContext) async throws {
            await Self.gate.wait(context.botName)
        }

        func handle(_ update: Update) async throws {}
    }

    @Test func aStopReachesABotThatWaitsForItsTurn() async throws {
        let tokens = [uniqueToken(), uniqueToken()]
        let bots = tokens.enumerated().map { index, token in
            "  - { name: bot\(index), token: \"\(token.secretValue)\", plugin: stuck }"
        }
        try await withHost(
            bots: bots.joined(separator: "\n"), plugins: [Stuck.self], tokens: tokens, startsAtOnce: 1
        ) { fixture in
            #expect(await fixture.waitUntil { Stuck.gate.entered.count == 1 })
            let queued = Stuck.gate.entered == ["bot0"] ? "bot1" : "bot0"
            #expect(fixture.state(of: queued) == .starting)

            fixture.host.requestStop()
            // Well before the turn of the stuck start would end (5 s).
            #expect(
                await fixture.waitUntil(timeout: .seconds(2)) { fixture.state(of: queued) == .stopped },
                "a bot waiting for its turn waited out the stuck start's turn after the stop")
            #expect(Stuck.gate.entered.count == 1, "the queued bot started after the stop")
            Stuck.gate.open()
        }
    }
}
