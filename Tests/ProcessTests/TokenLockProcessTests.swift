import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

/// The lock against real `bothost` processes: no two ever poll one bot.
@Suite(.serialized) struct TokenLockProcessTests {
    @Test func aStartStormLeavesExactlyOnePollerPerBot() async throws {
        let tokens = processTokens(3, test: 1)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                for round in 0..<20 {
                    let hosts = try (0..<16).map { _ in try BothostProcess(["run", manifest], in: directory) }
                    var exits: [Int32] = []
                    for host in hosts where await waitForExitOrPolling(host, emulator: emulator, tokens: tokens) {
                        exits.append(await host.exitCode())
                    }
                    let survivors = hosts.filter(\.isRunning)
                    #expect(survivors.count == 1, "round \(round): \(survivors.count) hosts kept running")
                    #expect(exits.allSatisfy { $0 == 3 }, "round \(round): exits \(exits)")
                    #expect(
                        await emulator.waitUntil { tokens.allSatisfy { emulator.isPolling($0) } },
                        "round \(round): the winner polls every bot")
                    for host in survivors {
                        host.signal(SIGTERM)
                        #expect(await host.exitCode() == 0)
                    }
                    for host in hosts { #expect(!host.stderr.contains(processSecret)) }
                }
                for token in tokens { #expect(emulator.conflicts(of: token) == 0) }
            }
        }
    }

    @Test func aStandbyTakesOverWhenTheHolderIsKilled() async throws {
        let tokens = processTokens(2, test: 2)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens, onLocked: "wait")
                let holder = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.isPolling($0) } })
                let standby = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { standby.stderr.contains("state=standby") })
                let callsBefore = tokens.map { emulator.getUpdatesCalls(of: $0).count }
                holder.signal(SIGKILL)
                let killed = ContinuousClock.now
                let tookOver = await emulator.waitUntil {
                    zip(tokens, callsBefore).allSatisfy { token, before in emulator.getUpdatesCalls(of: token).count > before }
                }
                let takeover = ContinuousClock.now - killed
                #expect(tookOver)
                #expect(takeover < .seconds(3), "standby took \(takeover) to poll")
                #expect(standby.stderr.contains("lock taken over"))
                standby.signal(SIGTERM)
                #expect(await standby.exitCode() == 0)
                for token in tokens { #expect(emulator.conflicts(of: token) == 0) }
            }
        }
    }

    @Test func aFreshStartAfterSIGKILLNeedsNoCleanup() async throws {
        let tokens = processTokens(2, test: 3)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                let first = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.isPolling($0) } })
                first.signal(SIGKILL)
                _ = await first.exitCode()
                let second = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { second.stderr.contains("state=polling") })
                #expect(second.isRunning)
                second.signal(SIGTERM)
                #expect(await second.exitCode() == 0)
            }
        }
    }

    @Test func aRemovedLockFileStopsThePolling() async throws {
        let tokens = processTokens(1, test: 4)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                let host = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { emulator.isPolling(tokens[0]) })
                let locks = directory.appendingPathComponent("locks")
                for file in try FileManager.default.contentsOfDirectory(atPath: locks.path) {
                    try FileManager.default.removeItem(at: locks.appendingPathComponent(file))
                }
                #expect(await host.exitCode(timeout: .seconds(10)) == 1)
                #expect(host.stderr.contains("lock lost"))
                // The emulator learns of the closed connection a moment after the exit.
                #expect(await emulator.waitUntil(timeout: .seconds(2)) { !emulator.isPolling(tokens[0]) })
            }
        }
    }

    @Test func anUnsafeLockDirectoryIsRefused() async throws {
        let tokens = processTokens(1, test: 5)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                let locks = directory.appendingPathComponent("locks")
                try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
                chmod(locks.path, 0o777)
                let result = try await BothostProcess.run(["run", manifest], in: directory)
                #expect(result.code == 1)
                #expect(result.stderr.contains(locks.path))
                #expect(emulator.getUpdatesCalls(of: tokens[0]).isEmpty)
            }
        }
    }

    @Test func noSecretInLockFilesNamesOrStatus() async throws {
        let tokens = processTokens(2, test: 6)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                let host = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { tokens.allSatisfy { emulator.isPolling($0) } })
                let locks = directory.appendingPathComponent("locks")
                let files = try FileManager.default.contentsOfDirectory(atPath: locks.path)
                #expect(files.count == 2)
                for file in files {
                    #expect(!file.contains(processSecret) && !file.contains(tokens[0].botID))
                    let contents = try String(contentsOf: locks.appendingPathComponent(file), encoding: .utf8)
                    #expect(!contents.contains(processSecret))
                    #expect(contents.contains("\"pid\":\(host.pid)"))
                }
                for arguments in [
                    ["status", "--lock-dir", locks.path], ["status", "--lock-dir", locks.path, "--json"], ["validate", manifest],
                ] {
                    let result = try await BothostProcess.run(arguments, in: directory)
                    #expect(result.code == 0)
                    #expect(!(result.stdout + result.stderr).contains(processSecret))
                }
                let status = try await BothostProcess.run(["status", "--lock-dir", locks.path], in: directory)
                #expect(status.stdout.contains("bot0") && status.stdout.contains("held") && status.stdout.contains("\(host.pid)"))
                host.signal(SIGTERM)
                #expect(await host.exitCode() == 0)
                #expect(!host.stderr.contains(processSecret))
                let after = try await BothostProcess.run(["status", "--lock-dir", locks.path], in: directory)
                #expect(after.stdout.contains("free"))
            }
        }
    }

    /// Returns true once `host` has exited; false if it is polling every bot instead.
    private func waitForExitOrPolling(_ host: BothostProcess, emulator: BotAPIEmulator, tokens: [BotToken]) async -> Bool {
        _ = await emulator.waitUntil(timeout: .seconds(30)) {
            !host.isRunning || (host.stderr.contains("hosting") && tokens.allSatisfy { emulator.isPolling($0) })
        }
        return !host.isRunning
    }
}
