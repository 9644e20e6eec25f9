import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension PostgresTests {
    /// The PostgreSQL lock against real `bothost` processes and a real server that the tests
    /// start: every bot has exactly one poller, across hosts, kills and database outages.
    @Suite struct PostgresLockProcessTests {
        @Test func threeHostsSplitTwelveBotsAndAdoptTheBotsOfAKilledOne() async throws {
            try await PostgresServer.with { server in
                let tokens = processTokens(12, test: 40)
                try await withEmulator(knowing: tokens) { emulator in
                    try await withScratchDirectory { directory in
                        let manifest = try writeManifest(
                            in: directory, emulator: emulator, tokens: tokens, onLocked: "wait", extra: "max_bots: 4",
                            lock: "{ backend: postgres, url: \"\(server.url)\" }")
                        let hosts = try (0..<3).map { _ in try BothostProcess(["run", manifest], in: directory) }
                        #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                        let holders = try await heldBy(manifest, in: directory)
                        for host in hosts {
                            #expect(holders.values.filter { $0 == host.pid }.count == 4, "host \(host.pid) holds \(holders)")
                        }

                        let killed = hosts[0]
                        let orphans = tokens.indices.filter { holders["bot\($0)"] == killed.pid }
                        let callsBefore = orphans.map { emulator.getUpdatesCalls(of: tokens[$0]).count }
                        killed.signal(SIGKILL)
                        let killedAt = ContinuousClock.now
                        let adopted = await emulator.waitUntil {
                            zip(orphans, callsBefore).allSatisfy { index, before in
                                emulator.getUpdatesCalls(of: tokens[index]).count > before
                            }
                        }
                        let failover = ContinuousClock.now - killedAt
                        #expect(adopted)
                        #expect(failover < .seconds(5), "the killed host's bots were polled again after \(failover)")
                        let afterKill = try await heldBy(manifest, in: directory)
                        #expect(
                            afterKill.count == 12 && Set(afterKill.values).isSubset(of: [hosts[1].pid, hosts[2].pid]),
                            "\(afterKill)")

                        let fenced = hosts[1]
                        #expect(try await server.terminateSession(ofHost: fenced.pid) == 1)
                        #expect(await emulator.waitUntil { fenced.stderr.contains("lock database session lost") })
                        #expect(
                            await emulator.waitUntil(timeout: .seconds(20)) {
                                fenced.stderr.components(separatedBy: "lock released").count > 1
                                    && tokens.allSatisfy { emulator.isPolling($0) }
                            })
                        #expect(try await heldBy(manifest, in: directory).count == 12)

                        for token in tokens { #expect(emulator.conflicts(of: token) == 0, "a second poller of \(token)") }
                        for host in hosts[1...] {
                            host.signal(SIGTERM)
                            #expect(await host.exitCode() == 0)
                            #expect(!host.stderr.contains(processSecret))
                        }
                    }
                }
            }
        }

        @Test func aDatabaseRestartNeverLetsTwoHostsPollOneBot() async throws {
            try await PostgresServer.with { server in
                let tokens = processTokens(4, test: 41)
                try await withEmulator(knowing: tokens) { emulator in
                    try await withScratchDirectory { directory in
                        let manifest = try writeManifest(
                            in: directory, emulator: emulator, tokens: tokens, onLocked: "wait",
                            lock: "{ backend: postgres, url: \"\(server.url)\" }")
                        let first = try BothostProcess(["run", manifest], in: directory)
                        #expect(await emulator.waitUntil(timeout: .seconds(20)) { tokens.allSatisfy { emulator.isPolling($0) } })
                        let second = try BothostProcess(["run", manifest], in: directory)
                        #expect(await emulator.waitUntil { second.stderr.contains("state=standby") })

                        try await server.stop()
                        #expect(
                            await emulator.waitUntil { tokens.allSatisfy { !emulator.isPolling($0) } },
                            "polling went on without a lock")
                        let callsWhileDown = tokens.map { emulator.getUpdatesCalls(of: $0).count }
                        try await Task.sleep(for: .seconds(2))
                        #expect(
                            tokens.map { emulator.getUpdatesCalls(of: $0).count } == callsWhileDown,
                            "a bot polled while the database was down")
                        #expect(
                            first.stderr.contains(
                                "cannot take the lock: lock database 127.0.0.1:\(server.port)/postgres: cannot connect"))

                        try await server.startAgain()
                        #expect(await emulator.waitUntil(timeout: .seconds(20)) { tokens.allSatisfy { emulator.isPolling($0) } })
                        #expect(try await heldBy(manifest, in: directory).count == 4)
                        for token in tokens { #expect(emulator.conflicts(of: token) == 0, "a second poller of \(token)") }
                        for host in [first, second] {
                            host.signal(SIGTERM)
                            #expect(await host.exitCode() == 0)
                        }
                    }
                }
            }
        }

        /// The journal lives in the lock database: updates that a killed holder had fetched
        /// but not finished are handled by the standby that takes the bot over, and Telegram
        /// (which had them confirmed) never sends them again.
        @Test func aStandbyHandlesWhatAKilledHolderJournaledButDidNotFinish() async throws {
            try await PostgresServer.with { server in
                let tokens = processTokens(1, test: 43)
                let token = tokens[0]
                try await withEmulator(knowing: tokens) { emulator in
                    try await withScratchDirectory { directory in
                        let manifest = try writeManifest(
                            in: directory, emulator: emulator, tokens: tokens, onLocked: "wait",
                            lock: "{ backend: postgres, url: \"\(server.url)\" }", plugin: "chaos")
                        let holder = try BothostProcess(["run", manifest], in: directory)
                        #expect(await emulator.waitUntil(timeout: .seconds(20)) { holder.stderr.contains("hosting 1 of 1 bots") })
                        let standby = try BothostProcess(["run", manifest], in: directory)
                        #expect(await emulator.waitUntil { standby.stderr.contains("state=standby") })

                        // Chat 1's next messages queue behind its hung handler, in the journal.
                        emulator.sendText("/hang 3", to: token)
                        for index in 0..<3 { emulator.sendText("queued \(index)", to: token) }
                        #expect(await emulator.waitUntil { emulator.pendingUpdateIDs(of: token).isEmpty })
                        #expect(emulator.sentCount(by: token) == 0)
                        holder.signal(SIGKILL)
                        _ = await holder.exitCode()

                        #expect(
                            await emulator.waitUntil(timeout: .seconds(30)) {
                                standby.stderr.contains("trying again 4 updates that the last run did not finish")
                            }, "\(standby.stderr.suffix(2000))")
                        #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.sentCount(by: token) == 3 })
                        #expect(emulator.sentMessages(by: token).map(\.text) == (0..<3).map { "queued \($0)" })
                        let redelivered = emulator.getUpdatesCalls(of: token).flatMap { call -> [Int64] in
                            if case .updates(let ids) = call.outcome { return ids }
                            return []
                        }
                        #expect(redelivered.count == 4, "Telegram delivered each update once: \(redelivered)")
                        standby.signal(SIGTERM)
                        #expect(await standby.exitCode() == 0)
                        // The killed holder's last long poll may still be open at the emulator,
                        // which ends it with a 409 nobody reads; the standby itself meets none.
                        #expect(!standby.stderr.contains("conflict"))
                    }
                }
            }
        }

        @Test func theLockDatabasePasswordIsASecretToo() async throws {
            try await PostgresServer.with { server in
                let tokens = processTokens(1, test: 42)
                try await withEmulator(knowing: tokens) { emulator in
                    let password = "PGpass-\(processSecret)"
                    try await withScratchDirectory { directory in
                        let url = server.url.replacingOccurrences(of: "postgres@", with: "postgres:\(password)@")
                        let manifest = try writeManifest(
                            in: directory, emulator: emulator, tokens: tokens, lock: "{ backend: postgres, url: \"\(url)\" }")
                        let host = try BothostProcess(["run", manifest, "--log-level", "debug"], in: directory)
                        #expect(await emulator.waitUntil(timeout: .seconds(20)) { tokens.allSatisfy { emulator.isPolling($0) } })
                        let validate = try await BothostProcess.run(["validate", manifest], in: directory)
                        let status = try await BothostProcess.run(["status", "--manifest", manifest], in: directory)
                        #expect(status.code == 0 && status.stdout.contains("held"))
                        try await server.stop()
                        #expect(await emulator.waitUntil { host.stderr.contains("lock database session lost") })
                        host.signal(SIGTERM)
                        #expect(await host.exitCode() == 0)
                        for output in [host.stderr, host.stdout, validate.stdout, validate.stderr, status.stdout, status.stderr] {
                            #expect(!output.contains(processSecret))
                        }
                    }
                }
            }
        }

        /// The pid of the host holding each bot's lock, by bot name, as `bothost status` reads it.
        private func heldBy(_ manifest: String, in directory: URL) async throws -> [String: Int32] {
            let status = try await BothostProcess.run(["status", "--manifest", manifest, "--json"], in: directory)
            #expect(status.code == 0, "status: \(status.stderr)")
            let rows = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]] ?? []
            var holders: [String: Int32] = [:]
            for row in rows where row["state"] as? String == "held" {
                if let bot = row["bot"] as? String, let pid = row["pid"] as? Int { holders[bot] = Int32(pid) }
            }
            return holders
        }
    }
}
