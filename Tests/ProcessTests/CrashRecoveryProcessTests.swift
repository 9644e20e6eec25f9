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
        var started: ContinuousClock.Instant
        var ended: ContinuousClock.Instant
        var killed: Bool
    }

    @Test func sigkillAtRandomMomentsLosesNothingAndRepeatsOnlyUnfinishedUpdates() async throws {
        let tokens = processTokens(20, test: 40)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens, pollingTimeout: "2s")
                for token in tokens {
                    emulator.injectPeriodicFaults([.serverError(status: 502), .dropConnection], method: "getUpdates", every: 20, for: token)
                    emulator.injectPeriodicFaults([.delay(.milliseconds(300))], method: "sendMessage", every: 20, for: token)
                }
                var generator = SystemRandomNumberGenerator()
                var runs: [Run] = []
                var texts: [BotToken: [String]] = [:]
                for round in 0..<10 {
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let started = ContinuousClock.now
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
                    runs.append(Run(started: started, ended: .now, killed: true))
                }
                let final = try BothostProcess(["run", manifest], in: directory)
                let started = ContinuousClock.now
                let everyAnswered = await emulator.waitUntil(timeout: .seconds(60)) {
                    tokens.allSatisfy { token in Set(emulator.sentMessages(by: token).map(\.text)).count == texts[token]?.count }
                }
                #expect(everyAnswered, "every update handled at least once")
                final.signal(SIGTERM)
                #expect(await final.exitCode() == 0)
                runs.append(Run(started: started, ended: .now, killed: false))

                let restarted = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                let sentBefore = tokens.map { emulator.sentCount(by: $0) }
                try await Task.sleep(for: .seconds(1))
                restarted.signal(SIGTERM)
                #expect(await restarted.exitCode() == 0)
                #expect(tokens.map { emulator.sentCount(by: $0) } == sentBefore, "nothing handed again after a graceful stop")

                var repeated = 0
                for token in tokens {
                    let replies = Dictionary(grouping: emulator.sentMessages(by: token), by: \.text)
                    for (text, copies) in replies where copies.count > 1 {
                        repeated += copies.count - 1
                        let runsOfCopies = copies.map { copy in runs.firstIndex { copy.receivedAt <= $0.ended } ?? runs.count }
                        #expect(Set(runsOfCopies).count == copies.count, "\(text): handed twice within one run")
                        for run in runsOfCopies.dropLast() where run < runs.count {
                            #expect(runs[run].killed, "\(text): handed again after a graceful stop")
                        }
                    }
                }
                // Each SIGKILL may repeat at most what was in flight at that moment.
                #expect(repeated <= 10 * tokens.count * 5, "\(repeated) repeats")
            }
        }
    }
}
