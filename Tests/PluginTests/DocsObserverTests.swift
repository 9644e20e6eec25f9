import BotAPIEmulator
import BotHostKit
import BotHostTesting
import DocsObserver
import Foundation
import TelegramBotAPI
import Testing

@Suite struct DocsObserverTests {
    @Test func answersWithTheBestParagraphAndFollowsFileChanges() async throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        Plugins implement BotPlugin: a name, an initializer that takes a context, and a handler.

        Shutdown hooks run last-registered-first, each with its own timeout.
        """.write(to: folder.appendingPathComponent("guide.md"), atomically: true, encoding: .utf8)

        let harness = try await PluginHarness.start(
            DocsObserver.self, settings: ["folder": .string(folder.path), "rescan_every": "2s"])
        let answer = try await harness.send("/ask in which order do shutdown hooks run?")
        #expect(answer.first?.text.hasPrefix("Shutdown hooks run last-registered-first") == true)
        #expect(try await harness.send("/ask quantum chromodynamics").first?.text == "I found nothing about that in the docs.")
        #expect(try await harness.send("just chatting").isEmpty)

        try "Lock files live in a private directory, one per bot id.".write(
            to: folder.appendingPathComponent("locks.txt"), atomically: true, encoding: .utf8)
        await harness.clock.waitForSleepers()
        harness.advance(by: .seconds(2))
        #expect(await harness.emulator.waitUntil { harness.logs.lines.contains { $0.contains("re-indexed 1 changed files") } })
        #expect(try await harness.send("/ask where do lock files live?").first?.text.contains("private directory") == true)

        let outcomes = await harness.stop()
        #expect(outcomes.map(\.name) == ["rag-observer"])
    }
}
