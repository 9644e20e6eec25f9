import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Testing

@testable import BotHostCore

/// Conversation state in a host: each bot's plugin gets the state kept in its journal, and
/// the journal's housekeeping purges what expired.
@Suite struct HostStateTests {
    /// Writes an expired value and a lasting one when it starts; answers every message with
    /// what it reads of both.
    struct Remembering: BotPlugin {
        static let name = "remembering"
        let context: BotContext

        init(context: BotContext) async throws {
            self.context = context
            try await context.state.set("gone", for: .bot("expired"), ttl: .zero)
            try await context.state.set(context.botName, for: .bot("kept"))
        }

        func handle(_ update: Update) async throws {
            guard let message = update.message else { return }
            let expired = try await context.state.value(String.self, for: .bot("expired"))
            let kept = try await context.state.value(String.self, for: .bot("kept"))
            try await context.api.sendMessage(chatID: .id(message.chat.id), text: "\(expired ?? "-") \(kept ?? "-")")
        }
    }

    @Test func eachBotReadsItsOwnStateAndExpiredValuesArePurged() async throws {
        let tokens = [uniqueToken(), uniqueToken()]
        let bots = tokens.enumerated().map { index, token in
            "  - { name: bot\(index), token: \"\(token.secretValue)\", plugin: remembering }"
        }
        try await withHost(bots: bots.joined(separator: "\n"), plugins: [Remembering.self], tokens: tokens) { fixture in
            #expect(await fixture.waitUntil { fixture.logLines(containing: "purged 1 expired state values").count == 2 })
            for token in tokens { fixture.emulator.sendText("hi", to: token) }
            #expect(await fixture.waitUntil { tokens.allSatisfy { fixture.emulator.sentMessages(by: $0).count == 1 } })
            #expect(fixture.emulator.sentMessages(by: tokens[0]).map(\.text) == ["- bot0"])
            #expect(fixture.emulator.sentMessages(by: tokens[1]).map(\.text) == ["- bot1"])
        }
    }
}
