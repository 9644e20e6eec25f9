import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

/// SIGKILL at random moments, again and again, while 20 bots take traffic through a Bot
/// API that fails 5% of the time: every update is handled at least once, and an update is
/// handed to its plugin again only after a SIGKILL that came before its finish was
/// written, never within one run and never after a graceful stop.
@Suite(.serialized) struct CrashRecoveryProcessTests {
    /// One `bothost run` and how it ended.
    private struct Run {
        var ended: ContinuousClock.Instant
        var killed: Bool
    }

    @Test func sigkillAtRandomMomentsLosesNothingAndRepeatsOnlyUnfinishedUpdates() async throws {
        let tokens = processTokens(20, test: 40)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens, pollingTimeout: "2s")
                for token in tokens {
                    emulator.injectPeriodicFaults(
                        [.serverError(status: 502), .dropConnection], method: "getUpdates", every: 20, for: token)
                    emulator.injectPeriodicFaults([.delay(.milliseconds(300))], method: "sendMessage", every: 20, for: token)
                }
                var generator = SystemRandomNumberGenerator()
                var runs: [Run] = []
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
                    runs.append(Run(ended: .now, killed: true))
                }
                let final = try BothostProcess(["run", manifest], in: directory)
                let everyAnswered = await emulator.waitUntil(timeout: .seconds(60)) {
                    tokens.allSatisfy { token in Set(emulator.sentMessages(by: token).map(\.text)).count == texts[token]?.count }
                }
                #expect(everyAnswered, "every update handled at least once")
                // A pending poll of a killed run still counts as polling at the emulator: wait
                // for the host's own word that it runs.
                #expect(await emulator.waitUntil(timeout: .seconds(30)) { final.stderr.contains("hosting 20 of 20 bots") })
                final.signal(SIGTERM)
                #expect(await final.exitCode() == 0)
                runs.append(Run(ended: .now, killed: false))

                let restarted = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                let sentBefore = tokens.map { emulator.sentCount(by: $0) }
                try await Task.sleep(for: .seconds(1))
                restarted.signal(SIGTERM)
                #expect(await restarted.exitCode() == 0)
                #expect(tokens.map { emulator.sentCount(by: $0) } == sentBefore, "nothing handed again after a graceful stop")

                // A reply is recorded when the emulator has read the request, which may be
                // after its sender was killed (the request was on its way, or the emulator
                // delayed it): a reply belongs to a run that ended at most a second before.
                var repeated = 0
                for token in tokens {
                    for (text, copies) in Dictionary(grouping: emulator.sentMessages(by: token), by: \.text)
                    where copies.count > 1 {
                        repeated += copies.count - 1
                        let times = copies.map(\.receivedAt).sorted()
                        for (earlier, later) in zip(times, times.dropFirst()) {
                            let killedBetween = runs.contains { run in
                                run.killed && earlier <= run.ended + .seconds(1) && later > run.ended
                            }
                            #expect(killedBetween, "\(text) handed again with no SIGKILL before its finish was written")
                        }
                    }
                }
                // Each SIGKILL may repeat at most what was in flight at that moment.
                #expect(repeated <= 10 * tokens.count * 5, "\(repeated) repeats")
            }
        }
    }
}
