import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension LongProcessTests {
    /// SIGKILL at random moments, again and again, while 20 bots take traffic through a Bot
    /// API that fails 5% of the time: every update is handled at least once, and an update is
    /// handed to its plugin again only after a SIGKILL that came before its finish was
    /// written, never within one run and never after a graceful stop.
    @Suite struct CrashRecoveryProcessTests {
        @Test func sigkillAtRandomMomentsLosesNothingAndRepeatsOnlyUnfinishedUpdates() async throws {
            let tokens = processTokens(20, test: 50)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, pollingTimeout: "2s", plugin: "chaos")
                    for token in tokens {
                        emulator.injectPeriodicFaults(
                            [.serverError(status: 502), .dropConnection], method: "getUpdates", every: 20, for: token)
                        emulator.injectPeriodicFaults([.delay(.milliseconds(300))], method: "sendMessage", every: 20, for: token)
                    }
                    var generator = SystemRandomNumberGenerator()
                    var runs: [BothostProcess] = []
                    var texts: [BotToken: [String]] = [:]
                    for round in 0..<10 {
                        let host = try BothostProcess(["run", manifest], in: directory)
                        for (index, token) in tokens.enumerated() {
                            for message in 0..<5 {
                                let text = "r\(round) b\(index) m\(message)"
                                emulator.sendText(text, to: token, from: User(id: Int64(message + 1), firstName: "U"))
                                texts[token, default: []].append(text)
                            }
                        }
                        try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500, using: &generator)))
                        host.signal(SIGKILL)
                        _ = await host.exitCode()
                        runs.append(host)
                    }
                    let final = try BothostProcess(["run", manifest], in: directory)
                    let everyAnswered = await emulator.waitUntil(timeout: .seconds(60)) {
                        tokens.allSatisfy { token in
                            Set(emulator.sentMessages(by: token).map(\.text)).count == texts[token]?.count
                        }
                    }
                    #expect(everyAnswered, "every update handled at least once")
                    // A pending poll of a killed run still counts as polling at the emulator: wait
                    // for the host's own word that it runs.
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { final.stderr.contains("hosting 20 of 20 bots") })
                    final.signal(SIGTERM)
                    #expect(await final.exitCode() == 0)
                    runs.append(final)

                    let restarted = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    let sentBefore = tokens.map { emulator.sentCount(by: $0) }
                    try await Task.sleep(for: .seconds(1))
                    restarted.signal(SIGTERM)
                    #expect(await restarted.exitCode() == 0)
                    #expect(tokens.map { emulator.sentCount(by: $0) } == sentBefore, "nothing handed again after a graceful stop")

                    // Handoffs as the chaos plugin logs them: within one run an update is
                    // handed over once; a later run hands it over again only if a SIGKILL came
                    // before its finish was written, and after a graceful stop nothing comes again.
                    var repeated = 0
                    for run in runs {
                        let handoffs = chaosHandoffs(in: run.stderr)
                        #expect(handoffs.values.allSatisfy { $0 == 1 }, "\(handoffs.filter { $0.value > 1 })")
                        repeated += handoffs.count
                    }
                    #expect(chaosHandoffs(in: restarted.stderr).isEmpty, "nothing handed over again after a graceful stop")
                    repeated -= tokens.count * 5 * 10
                    // Each SIGKILL may repeat at most what was in flight at that moment.
                    #expect((0...(10 * tokens.count * 5)).contains(repeated), "\(repeated) repeats")
                }
            }
        }
    }
}
