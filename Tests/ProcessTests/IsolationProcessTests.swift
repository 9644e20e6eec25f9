import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension HeavyProcessTests {
    /// Worker processes (`isolation: { mode: process }`, the default): a trap, a blocked
    /// thread or a busy CPU in one bot's plugin costs the other bots nothing.
    @Suite struct IsolationProcessTests {
        /// Five bots on two workers take a message every 100 ms each; the plugin of one of
        /// them traps. The supervisor stays up, no other bot misses a beat, the crashed
        /// worker's bots poll again at once, and Telegram never sees two pollers.
        @Test func aTrapInOnePluginCostsTheOtherBotsNothing() async throws {
            let tokens = processTokens(5, test: 60)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { workers: 2 }", plugin: "chaos")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains("hosting 5 of 5 bots") })
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })

                    let others = Array(tokens.dropFirst())
                    let crashed = ContinuousClock.now + .seconds(1)
                    var sent = 0
                    var pollsBeforeCrash = 0
                    while ContinuousClock.now < crashed + .seconds(4) {
                        for token in others { emulator.sendText("tick \(sent)", to: token) }
                        sent += 1
                        if pollsBeforeCrash == 0, ContinuousClock.now >= crashed {
                            pollsBeforeCrash = emulator.getUpdatesCalls(of: tokens[0]).count
                            emulator.sendText("/crash", to: tokens[0])
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    // Every message answered; one in flight in the crashed worker may be answered twice.
                    #expect(
                        await emulator.waitUntil {
                            others.allSatisfy { Set(emulator.sentMessages(by: $0).map(\.text)).count == sent }
                        })
                    #expect(host.isRunning, "the supervisor stays up")
                    #expect(host.stderr.contains("crashed (signal 4"), "\(host.stderr)")

                    var worstGap = Duration.zero
                    for token in others {
                        let times = emulator.sentMessages(by: token).map(\.receivedAt).sorted()
                        for (earlier, later) in zip(times, times.dropFirst()) { worstGap = max(worstGap, later - earlier) }
                    }
                    print("isolation: the longest gap between two replies of a bot while another one crashed: \(worstGap)")
                    #expect(worstGap < .seconds(1))

                    // The crashed worker's bots poll again, and the trapping update ends as a
                    // dead letter after its tries.
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(2)) {
                            emulator.getUpdatesCalls(of: tokens[0]).count > pollsBeforeCrash + 1 && emulator.isPolling(tokens[0])
                        })
                    #expect(await emulator.waitUntil { host.stderr.contains("update set aside as a dead letter") })
                    emulator.sendText("still here", to: tokens[0])
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[0]).map(\.text) == ["still here"] })
                    for token in tokens { #expect(emulator.conflicts(of: token) == 0) }

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    #expect(!host.stderr.contains(processSecret))
                }
            }
        }

        /// A worker that crashes a sixth time within a minute (`restart: { intensity: 5 }`)
        /// fails its bots with "crash loop"; the other worker's bots go on, and the host
        /// exits 1 when stopped.
        @Test func aCrashLoopFailsOnlyThatWorkersBots() async throws {
            let tokens = processTokens(4, test: 61)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        extra: """
                            isolation: { workers: 2, restart: { intensity: 5, period: 60s } }
                            admin: { listen: "127.0.0.1:0" }
                            """,
                        plugin: "chaos", defaults: "max_attempts: 1")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    let admin = try #require(await adminURL(of: host))
                    // A worker reports its bots as they change: polling at the emulator comes
                    // a moment before `/health` says so, and names their worker.
                    #expect(
                        await eventually {
                            (try? await health(admin))?.allSatisfy { $0.state == "polling" && $0.workerPID != nil } == true
                        })
                    let before = try await health(admin)
                    let crashingWorker = try #require(before.first { $0.name == "bot0" }?.workerPID)
                    for crash in 1...6 {
                        emulator.sendText("/crash", to: tokens[0])
                        #expect(await emulator.waitUntil(timeout: .seconds(10)) { crashes(in: host.stderr) >= crash })
                    }
                    #expect(await emulator.waitUntil { host.stderr.contains("crash loop") })
                    let after = try await health(admin)
                    for bot in before {
                        let now = after.first { $0.name == bot.name }
                        if bot.workerPID == crashingWorker {
                            #expect(now?.state == "failed")
                            #expect(now?.lastError?.contains("crash loop") == true, "\(String(describing: now))")
                        } else {
                            #expect(now?.state == "polling")
                        }
                    }
                    let survivor = try #require(tokens.indices.first { index in before[index].workerPID != crashingWorker })
                    emulator.sendText("alive", to: tokens[survivor])
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[survivor]).map(\.text) == ["alive"] })
                    #expect(host.isRunning)
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 1, "a bot failed")
                }
            }
        }

        /// `/block 5` and `/spin 5` in one bot: the plugin code runs off the I/O threads, so
        /// the other bots answer as fast as ever.
        @Test func aBlockedOrSpinningHandlerDoesNotSlowTheOtherBots() async throws {
            let tokens = processTokens(5, test: 62)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { workers: 2 }", plugin: "chaos")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    emulator.sendText("/block 5", to: tokens[0], chatID: 1)
                    emulator.sendText("/spin 5", to: tokens[0], chatID: 2)
                    let others = Array(tokens.dropFirst())
                    var sentAt: [String: ContinuousClock.Instant] = [:]
                    for round in 0..<40 {
                        for (index, token) in others.enumerated() {
                            let text = "r\(round) b\(index)"
                            sentAt[text] = .now
                            emulator.sendText(text, to: token)
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(await emulator.waitUntil { others.allSatisfy { emulator.sentCount(by: $0) == 40 } })
                    let latencies = others.flatMap { emulator.sentMessages(by: $0) }.compactMap { reply in
                        sentAt[reply.text].map { reply.receivedAt - $0 }
                    }.sorted()
                    let p99 = latencies[latencies.count * 99 / 100]
                    print(
                        "isolation: reply latency of the other bots while one blocks and spins: p50 \(latencies[latencies.count / 2]), p99 \(p99)"
                    )
                    #expect(p99 < .milliseconds(250))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// SIGTERM while every worker has a handler in flight: the same graceful stop as a
        /// single process (drain, confirm, hooks, locks), then the supervisor exits 0.
        @Test func sigtermDrainsEveryWorkerBeforeTheLocksAreReleased() async throws {
            let tokens = processTokens(4, test: 63)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { workers: 2 }", plugin: "chaos")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    for token in tokens {
                        emulator.sendText("/hang 1", to: token, chatID: 1)
                        emulator.sendText("after the hang", to: token, chatID: 1)
                    }
                    #expect(
                        await emulator.waitUntil { host.stderr.components(separatedBy: "chaos: handling an update").count == 5 })
                    #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.pendingUpdateIDs(of: $0).isEmpty } })
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    for token in tokens {
                        #expect(emulator.sentMessages(by: token).map(\.text) == ["after the hang"])
                        #expect(emulator.pendingUpdateIDs(of: token).isEmpty, "every offset confirmed")
                    }
                    let log = host.stderr
                    #expect(log.components(separatedBy: "lock released").count == 5)
                    #expect(log.contains("shutdown complete in"))
                    for index in tokens.indices {
                        let lines = log.split(separator: "\n").filter {
                            $0.contains("bot=bot\(index) ") || $0.hasSuffix("bot=bot\(index)")
                        }
                        let confirmed = try #require(lines.firstIndex { $0.contains("offset confirmed") })
                        let released = try #require(lines.firstIndex { $0.contains("lock released") })
                        #expect(confirmed < released, "bot\(index)'s lock is released after its worker stopped it")
                    }
                }
            }
        }

        private func crashes(in log: String) -> Int {
            log.components(separatedBy: "crashed (signal").count - 1
        }
    }
}

/// The admin server's base URL, from the host's log line (`admin: { listen: "127.0.0.1:0" }`).
func adminURL(of host: BothostProcess) async -> String? {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(30)
    while clock.now < deadline {
        if let line = host.stderr.split(separator: "\n").first(where: { $0.contains("admin listening on ") }),
            let start = line.range(of: "http://"), let end = line[start.lowerBound...].firstIndex(of: " ")
        {
            return String(line[start.lowerBound..<end])
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return nil
}

/// One bot as `/health` shows it.
struct HealthBot: Decodable {
    var name: String
    var state: String
    var lastError: String?
    var workerPID: Int32?

    enum CodingKeys: String, CodingKey {
        case name, state
        case lastError = "last_error"
        case workerPID = "worker_pid"
    }
}

/// The bots of `GET /health`.
func health(_ admin: String) async throws -> [HealthBot] {
    struct Health: Decodable { var bots: [HealthBot] }
    let (data, _) = try await URLSession.shared.data(from: URL(string: "\(admin)/health")!)
    return try JSONDecoder().decode(Health.self, from: data).bots
}
