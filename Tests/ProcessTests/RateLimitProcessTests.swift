import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension HeavyProcessTests {
    /// Outgoing rate limits (`limits:`, at their defaults) against an emulator that answers
    /// 429 past Telegram's limits, with the `chaos` plugin: Telegram never has to say no,
    /// and one chat's flood or a broadcast never keeps another chat waiting. Figures are
    /// printed; the benchmark's `--workload limits` measures the long broadcast.
    @Suite struct RateLimitProcessTests {
        /// `/flood 15` in one chat while 30 other chats each send one message.
        @Test func aFloodInOneChatHoldsUpNoOtherChat() async throws {
            let token = processTokens(1, test: 90)[0]
            try await withEmulator(knowing: [token]) { emulator in
                emulator.enforce(.telegram)
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: [token], plugin: "chaos", limits: "{}")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(token) })

                    emulator.sendText("/flood 15", to: token, from: User(id: 7001, firstName: "Flood"))
                    #expect(await emulator.waitUntil { floodTimes(emulator, token).count >= 3 })
                    let replies = try await sendFromThirtyChats(emulator, token)
                    print(
                        "limits: 30 replies during a flood: slowest \(replies.max()!), 429s \(emulator.rateLimitedCount(of: token))"
                    )
                    // 30 replies at the bot's pace of 30 a second take 1 s; the flood would hold
                    // them up for its whole 15 s.
                    #expect(replies.allSatisfy { $0 < .seconds(2) }, "\(replies)")

                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { floodTimes(emulator, token).count == 15 })
                    let flood = floodTimes(emulator, token)
                    let rate = Double(flood.count - 3) / (flood.last! - flood[2]).seconds
                    print("limits: 15 flood messages, after the burst of 3 at \(rate) a second")
                    #expect((0.8...1.05).contains(rate))
                    #expect(emulator.rateLimitedCount(of: token) == 0)

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    #expect(!host.stderr.contains(processSecret))
                }
            }
        }

        /// The same flood with `limits: off`: the emulator answers 429, so it does enforce, and
        /// the test above passes by the host's doing.
        @Test func withLimitsOffTheFloodMeets429s() async throws {
            let token = processTokens(1, test: 91)[0]
            try await withEmulator(knowing: [token]) { emulator in
                emulator.enforce(.telegram)
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: [token], plugin: "chaos", drainTimeout: "1s", limits: "off")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(token) })
                    emulator.sendText("/flood 40", to: token, from: User(id: 7001, firstName: "Flood"))
                    #expect(await emulator.waitUntil { emulator.rateLimitedCount(of: token) > 0 })
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// `/broadcast 90`: a scheduled job sends to 90 chats at the bot's 30 a second while
        /// 30 other chats write; their replies go ahead of the broadcast.
        @Test func aBroadcastGoesBehindReplies() async throws {
            let token = processTokens(1, test: 92)[0]
            try await withEmulator(knowing: [token]) { emulator in
                emulator.enforce(.telegram)
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: [token], plugin: "chaos", limits: "{}")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(token) })

                    emulator.sendText("/broadcast 90", to: token, from: User(id: 7001, firstName: "Admin"))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { broadcastTimes(emulator, token).count >= 30 })
                    let replies = try await sendFromThirtyChats(emulator, token, every: .milliseconds(30))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { broadcastTimes(emulator, token).count == 90 })
                    let broadcast = broadcastTimes(emulator, token)
                    print(
                        "limits: broadcast of 90 in \(broadcast.last! - broadcast.first!); replies meanwhile: slowest \(replies.max()!)"
                    )
                    // Behind the broadcast, they would wait up to its 3 s.
                    #expect(replies.allSatisfy { $0 < .seconds(2) }, "\(replies)")
                    #expect(emulator.rateLimitedCount(of: token) == 0)

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        private func floodTimes(_ emulator: BotAPIEmulator, _ token: BotToken) -> [ContinuousClock.Instant] {
            emulator.sentMessages(by: token).filter { $0.text.hasPrefix("flood ") }.map(\.receivedAt)
        }

        private func broadcastTimes(_ emulator: BotAPIEmulator, _ token: BotToken) -> [ContinuousClock.Instant] {
            emulator.sentMessages(by: token).filter { $0.text.hasPrefix("broadcast ") }.map(\.receivedAt)
        }

        /// Chats 8001 to 8030 each send one message, `every` apart; returns the time each
        /// waited for its reply.
        private func sendFromThirtyChats(
            _ emulator: BotAPIEmulator, _ token: BotToken, every interval: Duration = .zero
        ) async throws -> [Duration] {
            var sentAt: [String: ContinuousClock.Instant] = [:]
            for chat in 8001...8030 {
                let text = "hello from \(chat)"
                sentAt[text] = .now
                emulator.sendText(text, to: token, from: User(id: Int64(chat), firstName: "User"))
                if interval > .zero { try await Task.sleep(for: interval) }
            }
            #expect(
                await emulator.waitUntil {
                    emulator.sentMessages(by: token).filter { sentAt[$0.text] != nil }.count == sentAt.count
                })
            return emulator.sentMessages(by: token).compactMap { message in sentAt[message.text].map { message.receivedAt - $0 } }
        }
    }
}
