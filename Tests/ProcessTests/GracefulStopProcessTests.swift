import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension HeavyProcessTests {
    /// Stopping real `bothost` processes: SIGTERM loses nothing and repeats nothing; after
    /// SIGKILL the journal tries again only what was unfinished.
    @Suite struct GracefulStopProcessTests {
        @Test func sigtermStopsFiftyLongPollingBotsAtOnceAndConfirmsEveryOffset() async throws {
            let tokens = processTokens(50, test: 10)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(60)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    var lastUpdate: [Int64] = []
                    for token in tokens { lastUpdate.append(emulator.sendText("hello \(token.botID)", to: token)) }
                    #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.sentMessages(by: $0).count == 1 } })
                    emulator.injectFault(.delay(.milliseconds(1500)), method: "sendMessage", for: tokens[0])
                    let busy = emulator.sendText("busy", to: tokens[0])
                    #expect(await emulator.waitUntil { emulator.callCount("sendMessage", of: tokens[0]) == 2 })
                    #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.isPolling($0) } })

                    let signalled = ContinuousClock.now
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    let stopTook = ContinuousClock.now - signalled
                    #expect(stopTook < .seconds(10), "stopping took \(stopTook): pending polls must be cancelled, not waited out")
                    #expect(emulator.sentMessages(by: tokens[0]).map(\.text) == ["hello \(tokens[0].botID)", "busy"])
                    for (index, token) in tokens.enumerated() {
                        let expected = index == 0 ? busy + 1 : lastUpdate[index] + 1
                        let last = emulator.getUpdatesCalls(of: token).last
                        // The pending long poll confirmed the offset if it had surely reached the
                        // emulator; otherwise a confirming poll (limit 1, timeout 0) followed it.
                        #expect(last?.offset == expected, "bot\(index): \(String(describing: last))")
                        #expect(emulator.pendingUpdateIDs(of: token).isEmpty)
                    }
                    let log = host.stderr
                    for line in ["shutdown: stopping 50 bots", "offset confirmed", "lock released", "shutdown complete in"] {
                        #expect(log.contains(line), "missing log line: \(line)")
                    }

                    let restarted = try BothostProcess(["run", manifest], in: directory)
                    // The last long polls of the stopped host may still look pending at the
                    // emulator: wait for the new host's own word that it runs.
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(60)) { restarted.stderr.contains("hosting 50 of 50 bots") })
                    restarted.signal(SIGTERM)
                    #expect(await restarted.exitCode() == 0)
                    #expect(emulator.sentMessages(by: tokens[0]).count == 2, "nothing is handled twice after a restart")
                    for token in tokens.dropFirst() { #expect(emulator.sentMessages(by: token).count == 1) }
                }
            }
        }

        @Test func afterSIGKILLTheJournalTriesAgainOnlyTheUnfinishedUpdate() async throws {
            let tokens = processTokens(1, test: 11)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    for index in 0..<5 { emulator.sendText("fast \(index)", to: token) }
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: token).count == 5 })
                    #expect(await emulator.waitUntil { emulator.pendingUpdateIDs(of: token).isEmpty })
                    emulator.injectFault(.delay(.seconds(30)), method: "sendMessage", for: token)
                    emulator.sendText("slow", to: token)
                    #expect(await emulator.waitUntil { emulator.callCount("sendMessage", of: token) == 6 })
                    #expect(await emulator.waitUntil { emulator.pendingUpdateIDs(of: token).isEmpty })
                    host.signal(SIGKILL)
                    _ = await host.exitCode()

                    let callsBefore = emulator.getUpdatesCalls(of: token).count
                    let restarted = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: token).map(\.text).contains("slow") })
                    restarted.signal(SIGTERM)
                    #expect(await restarted.exitCode() == 0)
                    let redelivered = emulator.getUpdatesCalls(of: token).dropFirst(callsBefore).flatMap { call -> [Int64] in
                        if case .updates(let ids) = call.outcome { return ids }
                        return []
                    }
                    #expect(redelivered.isEmpty, "the journal, not Telegram, holds the unfinished update: \(redelivered)")
                    let texts = emulator.sentMessages(by: token).map(\.text)
                    for index in 0..<5 { #expect(texts.filter { $0 == "fast \(index)" }.count == 1, "\(texts)") }
                }
            }
        }
    }
}
