import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension LongProcessTests {
    /// Conversation state with real `bothost` processes: the worker process that runs a bot
    /// keeps its state in the bot's journal file, where the next host finds it.
    @Suite struct StateProcessTests {
        @Test func aChatsStateOutlivesARestartOfTheHost() async throws {
            let tokens = processTokens(1, test: 44)
            let token = tokens[0]
            let alice = User(id: 1, firstName: "Alice")
            let bob = User(id: 2, firstName: "Bob")
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens, plugin: "chaos")
                    let first = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("/count", to: token, from: alice)
                    emulator.sendText("/count", to: token, from: alice)
                    emulator.sendText("/count", to: token, from: bob)
                    #expect(await emulator.waitUntil(sent: 3, by: token, timeout: .seconds(30)))
                    first.signal(SIGTERM)
                    #expect(await first.exitCode() == 0)

                    let second = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("/count", to: token, from: alice)
                    emulator.sendText("/count", to: token, from: bob)
                    #expect(await emulator.waitUntil(sent: 5, by: token, timeout: .seconds(30)))
                    let sent = emulator.sentMessages(by: token)
                    #expect(sent.filter { $0.chatID == .id(alice.id) }.map(\.text) == ["count 1", "count 2", "count 3"])
                    #expect(sent.filter { $0.chatID == .id(bob.id) }.map(\.text) == ["count 1", "count 2"])
                    second.signal(SIGTERM)
                    #expect(await second.exitCode() == 0)
                }
            }
        }
    }
}
