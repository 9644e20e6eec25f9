import BotAPIEmulator
import ChildProcesses
import Foundation
import TelegramBotAPI
import Testing

extension OperationsProcessTests {
    /// The update journal with real `bothost` processes: a hung chat holds back only itself,
    /// an `update_id` sequence restart is followed, a poison update ends as a dead letter
    /// after `max_attempts` crashes, and a journal that cannot be used is reported clearly.
    @Suite struct UpdateJournalProcessTests {
        @Test func aHungChatHoldsBackOnlyItself() async throws {
            let tokens = processTokens(1, test: 37)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, plugin: "chaos", drainTimeout: "500ms")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(token) })
                    emulator.sendText("/hang 25", to: token, from: User(id: 1, firstName: "Stuck"))
                    #expect(await emulator.waitUntil { emulator.pendingUpdateIDs(of: token).isEmpty })
                    let pollsBefore = emulator.getUpdatesCalls(of: token).count
                    for round in 0..<5 {
                        for chat in 2...51 {
                            emulator.sendText("m\(round)", to: token, from: User(id: Int64(chat), firstName: "U\(chat)"))
                        }
                    }
                    let answered = await emulator.waitUntil(sent: 250, by: token, timeout: .seconds(10))
                    #expect(answered, "answered \(emulator.sentCount(by: token)) of 250 while chat 1 hangs")
                    let polls = emulator.getUpdatesCalls(of: token).count - pollsBefore
                    #expect(polls <= 60, "\(polls) getUpdates for 250 updates")
                    for chat in 2...51 {
                        let texts = emulator.sentMessages(by: token).filter { $0.chatID == .id(Int64(chat)) }.map(\.text)
                        #expect(texts == (0..<5).map { "m\($0)" }, "chat \(chat): \(texts)")
                    }
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        @Test func updatesAfterAnUpdateIDSequenceRestartAreAnswered() async throws {
            let tokens = processTokens(1, test: 31)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("before", to: token)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.sentCount(by: token) == 1 })
                    #expect(await emulator.waitUntil { emulator.isPolling(token) })
                    emulator.restartUpdateSequence(for: token, at: 3000)
                    let pollsBefore = emulator.getUpdatesCalls(of: token).count
                    #expect(emulator.sendText("first", to: token) == 3000)
                    #expect(emulator.sendText("second", to: token) == 3001)
                    #expect(await emulator.waitUntil { emulator.sentCount(by: token) == 3 })
                    try await Task.sleep(for: .seconds(1))
                    #expect(emulator.sentMessages(by: token).map(\.text) == ["before", "first", "second"])
                    let polls = emulator.getUpdatesCalls(of: token).count - pollsBefore
                    #expect(polls <= 5, "\(polls) getUpdates: no busy loop")
                    #expect(host.stderr.contains("Telegram restarted this bot's update_id sequence"))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// `/crash` traps the process. It is tried `max_attempts` times across restarts (as
        /// systemd would restart the host), then set aside, and the chat moves on.
        @Test func aPoisonUpdateBecomesADeadLetterAfterMaxAttemptsCrashes() async throws {
            let tokens = processTokens(1, test: 32)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    // One process, which the crash takes down whole (workers: see IsolationProcessTests).
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { mode: none }", plugin: "chaos",
                        defaults: "max_attempts: 3")
                    // No backtrace: a crashed host exits at once.
                    let environment = ["SWIFT_BACKTRACE": "enable=no"]
                    var host = try BothostProcess(["run", manifest], in: directory, environment: environment)
                    emulator.sendText("other chat", to: token, from: User(id: 2002, firstName: "Bob"))
                    #expect(await emulator.waitUntil(sent: 1, by: token, timeout: .seconds(30)))
                    let poison = emulator.sendText("/crash", to: token)
                    var crashes = 0
                    while await Self.exits(host), crashes < 5 {
                        crashes += 1
                        host = try BothostProcess(["run", manifest], in: directory, environment: environment)
                    }
                    #expect(crashes == 3, "the host crashed \(crashes) times")
                    #expect(
                        host.stderr.contains("update set aside as a dead letter: the process ended during each of its 3 tries"))

                    emulator.sendText("after", to: token)
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: token).contains { $0.text == "after" } })
                    // Answered before the first crash; a crash within the group commit of its
                    // finish mark (a few milliseconds after its handler returned) answers it again.
                    #expect((1...2).contains(emulator.sentMessages(by: token).filter { $0.text == "other chat" }.count))

                    let listed = try await BothostProcess.run(["dead-letters", manifest, "--json"], in: directory)
                    #expect(listed.code == 0, "\(listed.stderr)")
                    let letters = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(listed.stdout.utf8))
                    #expect(letters.count == 1)
                    #expect(letters.first?["update_id"]?.intValue == Int(poison))
                    #expect(letters.first?["tries"]?.intValue == 3)
                    let id = letters.first?["id"]?.stringValue ?? ""
                    #expect(id.hasPrefix("bot0-"))

                    let unknown = try await BothostProcess.run(
                        ["dead-letters", manifest, "--discard", "bot0-999999"], in: directory)
                    #expect(unknown.code == 2)
                    #expect(unknown.stderr.contains("unknown dead letter 'bot0-999999'"))
                    let discarded = try await BothostProcess.run(["dead-letters", manifest, "--discard", id], in: directory)
                    #expect(discarded.code == 0, "\(discarded.stderr)")
                    let empty = try await BothostProcess.run(["dead-letters", manifest], in: directory)
                    #expect(empty.stdout.contains("0 dead letters"))

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// Whether `host` ends within a few seconds; as systemd would, the caller starts it
        /// again then.
        private static func exits(_ host: BothostProcess) async -> Bool {
            let start = ContinuousClock.now
            while host.isRunning {
                if ContinuousClock.now - start > .seconds(6) { return false }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return true
        }

        /// A crash charges a try to every update running at the time; after it, those are
        /// tried one at a time, so only the one that crashes the process ends as a dead
        /// letter, not a hung chat of another bot that ran beside it.
        @Test func onlyTheUpdateThatCrashesTheProcessBecomesADeadLetter() async throws {
            let tokens = processTokens(2, test: 38)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { mode: none }", plugin: "chaos",
                        defaults: "max_attempts: 3")
                    let environment = ["SWIFT_BACKTRACE": "enable=no"]
                    var host = try BothostProcess(["run", manifest], in: directory, environment: environment)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains("hosting 2 of 2 bots") })
                    emulator.sendText("/hang 4", to: tokens[1], from: User(id: 42, firstName: "Slow"))
                    #expect(await emulator.waitUntil { host.stderr.contains("chaos: handling an update\" bot=bot1") })
                    emulator.sendText("/crash", to: tokens[0])
                    var crashes = 0
                    while await Self.exits(host), crashes < 5 {
                        crashes += 1
                        host = try BothostProcess(["run", manifest], in: directory, environment: environment)
                    }
                    #expect(crashes == 3, "the host crashed \(crashes) times")
                    emulator.sendText("after", to: tokens[1], from: User(id: 42, firstName: "Slow"))
                    #expect(await emulator.waitUntil(sent: 1, by: tokens[1], timeout: .seconds(30)))
                    let listed = try await BothostProcess.run(["dead-letters", manifest, "--json"], in: directory)
                    let letters = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(listed.stdout.utf8))
                    #expect(letters.map { $0["bot"]?.stringValue } == ["bot0"], "\(listed.stdout)")
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// A stop that cuts a handler short (past `drain_timeout`) is no failed try: stopped
        /// three times during a long handler, the update is still tried, not set aside.
        @Test func aStopDuringAHandlerIsNoFailedTry() async throws {
            let tokens = processTokens(1, test: 39)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, plugin: "chaos", drainTimeout: "200ms",
                        defaults: "max_attempts: 2")
                    emulator.sendText("/hang 30", to: token)
                    for _ in 0..<3 {
                        let host = try BothostProcess(["run", manifest], in: directory)
                        #expect(
                            await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains("chaos: handling an update") })
                        host.signal(SIGTERM)
                        #expect(await host.exitCode() == 0, "\(host.stderr)")
                        #expect(!host.stderr.contains("dead letter"), "\(host.stderr)")
                    }
                    let listed = try await BothostProcess.run(["dead-letters", manifest], in: directory)
                    #expect(listed.stdout.contains("0 dead letters"), "\(listed.stdout)")
                }
            }
        }

        /// Each bot holds a lock file, three journal files and its connections: 40 bots need
        /// more descriptors than a soft limit of 64, which the host raises to the hard one.
        @Test func theSoftLimitOfOpenFilesIsRaisedToTheHardOne() async throws {
            let tokens = processTokens(40, test: 29)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let host = try BothostProcess(
                        ["run", manifest], in: directory, launcher: ["/usr/bin/prlimit", "--nofile=64:4096"])
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains("hosting 40 of 40 bots") })
                    for token in tokens { emulator.sendText("hello", to: token) }
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.sentCount(by: $0) == 1 } })
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0, "\(host.stderr.suffix(1500))")
                }
            }
        }

        /// A manifest that needs more open files than even the hard limit allows is refused
        /// before anything starts, with the numbers and the way to raise it.
        @Test func tooLowAHardLimitOfOpenFilesIsRefusedBeforeAnythingStarts() async throws {
            let tokens = processTokens(40, test: 28)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    // Two workers of 20 bots each: the busiest process needs 64 + 20 x 5.
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: "isolation: { mode: process, workers: 2 }")
                    let host = try BothostProcess(
                        ["run", manifest], in: directory, launcher: ["/usr/bin/prlimit", "--nofile=64:128"])
                    #expect(await host.exitCode() == 2)
                    #expect(
                        host.stderr.contains(
                            "bots.yaml: 40 bots need about 164 open files in their busiest process, and the limit is 128; raise it"
                        ),
                        "\(host.stderr)")
                    #expect(host.stderr.contains("LimitNOFILE="))
                    #expect(emulator.getUpdatesCalls(of: tokens[0]).isEmpty)
                }
            }
        }

        /// A dead letter handed back with `--replay` while the host runs is tried again: by
        /// the running host at its next housekeeping pass (30 s), or at once by a host that
        /// starts, which is what this waits for.
        @Test func aReplayedDeadLetterIsTriedAgain() async throws {
            let tokens = processTokens(1, test: 33)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        plugin: "chaos", defaults: "max_attempts: 1\n  handler_timeout: 300ms")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("/hang 1", to: token)
                    let setAside = "update set aside as a dead letter: its handler timed out in each of 1 tries"
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains(setAside) })
                    let listed = try await BothostProcess.run(["dead-letters", manifest, "--bot", "bot0"], in: directory)
                    #expect(listed.stdout.contains("1 dead letter"), "\(listed.stdout)")

                    let mixed = try await BothostProcess.run(["dead-letters", manifest, "--replay-all", "--json"], in: directory)
                    #expect(mixed.code == 2 && mixed.stderr.contains("--json lists dead letters"), "\(mixed.stderr)")
                    let otherBot = try await BothostProcess.run(
                        ["dead-letters", manifest, "--replay", "bot7-1", "--bot", "bot0"], in: directory)
                    #expect(
                        otherBot.code == 2 && otherBot.stderr.contains("no bot named 'bot7' (--bot bot0)"), "\(otherBot.stderr)")
                    let replayed = try await BothostProcess.run(["dead-letters", manifest, "--replay-all"], in: directory)
                    #expect(replayed.code == 0, "\(replayed.stderr)")
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)

                    let restarted = try BothostProcess(["run", manifest], in: directory)
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { restarted.stderr.contains(setAside) })
                    #expect(restarted.stderr.contains("1 dead letters handed back for another try"))
                    restarted.signal(SIGTERM)
                    #expect(await restarted.exitCode() == 0)
                }
            }
        }

        @Test func aStateDirOpenToOthersOrOwnedByAnotherUserIsRefusedBeforeAnythingStarts() async throws {
            let tokens = processTokens(1, test: 34)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let state = directory.appendingPathComponent("state").path
                    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
                    chmod(state, 0o755)
                    let run = try await BothostProcess.run(["run", manifest], in: directory)
                    #expect(run.code == 4)
                    #expect(run.stderr.contains("refusing state_dir \(state): its mode is 0755"), "\(run.stderr)")
                    if getuid() == 0 {
                        chmod(state, 0o700)
                        chown(state, 65534, 65534)
                        let foreign = try await BothostProcess.run(["run", manifest], in: directory)
                        #expect(foreign.code == 4)
                        #expect(
                            foreign.stderr.contains("refusing state_dir \(state): it is owned by uid 65534"), "\(foreign.stderr)")
                    }
                    #expect(emulator.getUpdatesCalls(of: tokens[0]).isEmpty)
                }
            }
        }

        /// A damaged journal fails its own bot, naming the file; the other bot goes on.
        @Test func aDamagedJournalFailsOnlyItsBot() async throws {
            let tokens = processTokens(2, test: 35)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let state = directory.appendingPathComponent("state")
                    try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
                    chmod(state.path, 0o700)
                    let validated = try await BothostProcess.run(["validate", manifest], in: directory)
                    let lockID = try #require(
                        validated.stdout.split(separator: "\n").first { $0.hasPrefix("bot0 ") }?.split(separator: " ").dropFirst(
                            2
                        )
                        .first)
                    let journal = state.appendingPathComponent("\(lockID).journal").path
                    try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: journal))

                    let host = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("hello", to: tokens[1])
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.sentCount(by: tokens[1]) == 1 })
                    #expect(await emulator.waitUntil { host.stderr.contains("journal \(journal) cannot be read") })
                    #expect(emulator.getUpdatesCalls(of: tokens[0]).isEmpty)
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 1)
                    #expect(!host.stderr.contains(processSecret))
                }
            }
        }

        /// A full disk pauses polling (nothing fetched is confirmed, so Telegram keeps it);
        /// once there is room again every update is answered. The disk is a 1 MiB tmpfs
        /// filled by a file, which needs root to mount.
        @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
        func aFullDiskPausesPollingAndLosesNothing() async throws {
            let tokens = processTokens(1, test: 36)
            let token = tokens[0]
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let state = directory.appendingPathComponent("state").path
                    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
                    let mounted = try runToEnd("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", state])
                    try #require(mounted, "mount -t tmpfs failed")
                    defer { _ = try? runToEnd("/bin/umount", ["-l", state]) }
                    let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    emulator.sendText("before", to: token)
                    #expect(await emulator.waitUntil(sent: 1, by: token, timeout: .seconds(30)))

                    let filler = state + "/filler"
                    _ = try runToEnd("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4k", "count=1000"])
                    let big = String(repeating: "x", count: 3000)
                    for index in 0..<40 { emulator.sendText("\(index) \(big)", to: token) }
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains("the disk is full") })
                    #expect(!emulator.pendingUpdateIDs(of: token).isEmpty, "a batch not journaled is not confirmed")

                    try FileManager.default.removeItem(atPath: filler)
                    #expect(await emulator.waitUntil(sent: 41, by: token, timeout: .seconds(30)))
                    #expect(host.stderr.contains("the journal takes updates again"))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    #expect(Set(emulator.sentMessages(by: token).map(\.text)).count == 41)
                }
            }
        }
    }
}

/// Runs a tool to its end (briefly: `mount`, `dd`); whether it exited 0.
private func runToEnd(_ executable: String, _ arguments: [String]) throws -> Bool {
    let process = try ChildProcess(executable, arguments)
    while process.isRunning { usleep(10_000) }
    return process.exitStatus == 0
}
