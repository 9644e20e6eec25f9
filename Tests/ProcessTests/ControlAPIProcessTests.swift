import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

extension OperationsProcessTests {
    /// The control API of a running host (issue 20): every change needs the admin token,
    /// and its effect shows at the Bot API, in `/health` and in `/metrics`.
    @Suite struct ControlAPIProcessTests {
        /// Pause, resume and restart, with worker processes (the supervisor passes each on
        /// to the bot's worker) and without: a paused bot sends no getUpdates and answers
        /// nothing, resumed it answers what came meanwhile, and a restart runs its shutdown
        /// hooks and starts it again with its lock kept. The other bot never notices.
        @Test(arguments: [("{ mode: process, workers: 2 }", 70), ("{ mode: none }", 71)])
        func pauseResumeAndRestartABot(isolation: String, test: Int) async throws {
            let tokens = processTokens(2, test: test)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    try writeAdminToken(in: directory)
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        extra: "isolation: \(isolation)\n\(adminWithToken)", plugin: "chaos",
                        defaults: "settings: { farewell_chat: 4242 }")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let base = try #require(await adminURL(of: host))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })

                    // Refused without the token, or with a wrong one; nothing changes.
                    let bare = try await admin("POST", "\(base)/bots/bot0/pause")
                    #expect(bare.status == 401, "\(bare.body)")
                    #expect(bare.body.contains("Authorization: Bearer"))
                    let wrong = try await admin("POST", "\(base)/bots/bot0/pause", token: "not-the-token-0123456789")
                    #expect(wrong.status == 403, "\(wrong.body)")
                    #expect(host.stderr.contains("control: refused POST /bots/bot0/pause from 127.0.0.1:"))
                    #expect(await listedState(of: "bot0", at: base) == "polling")
                    let unknown = try await admin("POST", "\(base)/bots/nobody/pause", token: adminSecret)
                    #expect(unknown.status == 404 && unknown.body.contains("no bot named 'nobody'"), "\(unknown.body)")

                    // Paused: no getUpdates, no answers; the lock stays held.
                    let paused = try await admin("POST", "\(base)/bots/bot0/pause", token: adminSecret)
                    #expect(paused.status == 200, "\(paused.body)")
                    #expect(paused.body.contains(#""state":"paused""#), "\(paused.body)")
                    #expect(await emulator.waitUntil { !emulator.isPolling(tokens[0]) })
                    let pollsWhilePaused = emulator.getUpdatesCalls(of: tokens[0]).count
                    for text in ["one", "two"] { emulator.sendText(text, to: tokens[0]) }
                    emulator.sendText("other", to: tokens[1])
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[1]).map(\.text) == ["other"] })
                    try await Task.sleep(for: .seconds(2))
                    #expect(emulator.getUpdatesCalls(of: tokens[0]).count == pollsWhilePaused, "a paused bot sends no getUpdates")
                    #expect(emulator.sentCount(by: tokens[0]) == 0)
                    #expect(try await health(base).first { $0.name == "bot0" }?.state == "paused")
                    let (_, metrics) = try await admin("GET", "\(base)/metrics")
                    #expect(metrics.contains(#"bothost_bot_state{bot="bot0",state="paused"} 1"#))
                    #expect(metrics.contains(#"bothost_lock_held{bot="bot0"} 1"#))
                    #expect(host.stderr.contains("control: paused by 127.0.0.1:"))

                    // Resumed: what came meanwhile is answered.
                    let resumed = try await admin("POST", "\(base)/bots/bot0/resume", token: adminSecret)
                    #expect(resumed.status == 200 && resumed.body.contains(#""state":"polling""#), "\(resumed.body)")
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[0]).map(\.text) == ["one", "two"] })

                    // Restarted: the shutdown hook says goodbye, getMe again, the lock kept.
                    let restarted = try await admin("POST", "\(base)/bots/bot0/restart", token: adminSecret)
                    #expect(restarted.status == 202, "\(restarted.body)")
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(20)) {
                            emulator.sentMessages(by: tokens[0]).contains { $0.text == "chaos: goodbye" }
                        })
                    #expect(await emulator.waitUntil(timeout: .seconds(20)) { emulator.callCount("getMe", of: tokens[0]) == 2 })
                    #expect(await eventually { await listedState(of: "bot0", at: base) == "polling" })
                    emulator.sendText("after restart", to: tokens[0])
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[0]).last?.text == "after restart" })
                    #expect(emulator.callCount("getMe", of: tokens[1]) == 1, "the other bot was left alone")
                    #expect(!host.stderr.contains("bot=bot0 lock released") && !host.stderr.contains("lock released bot=bot0"))
                    #expect(host.stderr.contains("restarting: the stop sequence ran"))
                    #expect(try await listedBots(base).first { $0.name == "bot0" }?.restarts == 1)
                    // Asked of the worker by the scrape itself: up to date at once.
                    #expect(try await admin("GET", "\(base)/metrics").body.contains(#"bothost_restarts_total{bot="bot0"} 1"#))
                    for token in tokens { #expect(emulator.conflicts(of: token) == 0) }

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    #expect(!host.stderr.contains(processSecret))
                    #expect(!host.stderr.contains(adminSecret))
                }
            }
        }

        /// A control API without `admin.token_file` is off: every change answers 403, while
        /// the reads (the bots, the dashboard, dead letters) still answer.
        @Test func withoutATokenFileEveryChangeIsRefused() async throws {
            let tokens = processTokens(1, test: 72)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        extra: #"isolation: { mode: none }"# + "\n" + #"admin: { listen: "127.0.0.1:0" }"#)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let base = try #require(await adminURL(of: host))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(tokens[0]) })
                    for path in [
                        "/bots/bot0/pause", "/bots/bot0/resume", "/bots/bot0/restart", "/dead-letters/bot0-1/replay", "/reload",
                    ] {
                        let answer = try await admin("POST", base + path, token: adminSecret)
                        #expect(answer.status == 403, "\(path): \(answer.body)")
                        #expect(answer.body.contains("the control API is off"))
                    }
                    #expect(try await admin("GET", "\(base)/bots").status == 200)
                    #expect(try await admin("GET", "\(base)/dead-letters").body == "[]")
                    let page = try await admin("GET", "\(base)/")
                    #expect(page.status == 200 && page.body.contains("<title>BotHost</title>"))
                    #expect(emulator.isPolling(tokens[0]))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }

        /// A revoked token (401 while polling) fails only its bot, as `failed: token
        /// rejected`; the manifest with the new token, reloaded through the control API,
        /// restarts just that bot.
        @Test func aRevokedTokenFailsOnlyItsBotAndAReloadWithTheNewOneRestartsIt() async throws {
            let tokens = processTokens(2, test: 73)
            let renewed = try BotToken("\(tokens[0].botID):\(processSecret)renewed")
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    try writeAdminToken(in: directory)
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: adminWithToken, pollingTimeout: "1s")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let base = try #require(await adminURL(of: host))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })

                    emulator.addBot(renewed)  // as @BotFather's /revoke: the old token gets 401
                    #expect(await eventually { await listedState(of: "bot0", at: base) == "failed" })
                    let failed = try #require(try await listedBots(base).first { $0.name == "bot0" })
                    #expect(failed.failure == "token rejected")
                    let table = try await BothostProcess.run(["ctl", "bots", "--admin", base], in: directory)
                    #expect(table.stdout.contains("failed: token rejected"), "\(table.stdout)")
                    emulator.sendText("still here", to: tokens[1])
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: tokens[1]).map(\.text) == ["still here"] })

                    try writeManifest(
                        in: directory, emulator: emulator, tokens: [renewed, tokens[1]], extra: adminWithToken,
                        pollingTimeout: "1s")
                    let reload = try await BothostProcess.run(
                        ["ctl", "reload", "--admin", base, "--token-file", "admin.token"], in: directory)
                    #expect(reload.code == 0, "\(reload.stderr)")
                    #expect(reload.stdout == "reloaded: 0 added, 0 removed, 1 restarted, 1 unchanged\n")
                    #expect(await eventually { await listedState(of: "bot0", at: base) == "polling" })
                    emulator.sendText("renewed", to: renewed)
                    #expect(await emulator.waitUntil { emulator.sentMessages(by: renewed).map(\.text) == ["renewed"] })
                    #expect(emulator.callCount("getMe", of: tokens[1]) == 1, "the other bot was not restarted")
                    #expect(host.stderr.contains("reload: POST /reload from 127.0.0.1:"))

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    for output in [host.stderr, table.stdout, reload.stdout] {
                        #expect(!output.contains(processSecret))
                    }
                }
            }
        }

        /// Every `bothost ctl` command against a running host, with and without the token:
        /// one-line errors, exit 2 for what the command line got wrong, 1 for a host that
        /// cannot be reached, tables or `--json`; a dead letter replayed through it is tried
        /// again, and a token changed in the manifest restarts just its bot.
        @Test func ctlCommandsDriveARunningHost() async throws {
            let tokens = processTokens(2, test: 74)
            let renewed = try BotToken("\(tokens[1].botID):\(processSecret)renewed")
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    try writeAdminToken(in: directory)
                    try "wrong-token-0123456789abcdef\n".write(
                        to: directory.appendingPathComponent("wrong.token"), atomically: true, encoding: .utf8)
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: adminWithToken, plugin: "chaos",
                        defaults: "max_attempts: 1\n  handler_timeout: 300ms")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let base = try #require(await adminURL(of: host))
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { tokens.allSatisfy { emulator.isPolling($0) } })
                    var outputs: [String] = []
                    func ctl(
                        _ arguments: String..., token: String? = "admin.token"
                    ) async throws -> (
                        code: Int32, stdout: String, stderr: String
                    ) {
                        let options = ["--admin", base] + (token.map { ["--token-file", $0] } ?? [])
                        let run = try await BothostProcess.run(["ctl"] + arguments + options, in: directory)
                        outputs += [run.stdout, run.stderr]
                        return run
                    }

                    let table = try await ctl("bots", token: nil)
                    #expect(table.code == 0, "\(table.stderr)")
                    #expect(table.stdout.hasPrefix("NAME "), "\(table.stdout)")
                    #expect(table.stdout.contains("bot0") && table.stdout.contains("bot1"))
                    #expect(table.stdout.hasSuffix("2 bots: 2 polling\n"), "\(table.stdout)")
                    let json = try await ctl("bots", "--json", token: nil)
                    #expect(json.code == 0 && json.stdout.contains(#""name" : "bot0""#), "\(json.stdout)")

                    for (token, status) in [(nil, "401"), ("wrong.token", "403")] {
                        let refused = try await ctl("pause", "bot0", token: token)
                        #expect(refused.code == 2)
                        #expect(refused.stdout.isEmpty)
                        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
                        #expect(refused.stderr.hasPrefix("POST /bots/bot0/pause: \(status) "), "\(refused.stderr)")
                    }
                    let noFile = try await ctl("pause", "bot0", token: "no-such.token")
                    #expect(noFile.code == 2 && noFile.stderr == "cannot read token file no-such.token: no such file\n")
                    try "\(adminSecret)\nsecond line\n".write(
                        to: directory.appendingPathComponent("two-lines.token"), atomically: true, encoding: .utf8)
                    let twoLines = try await ctl("pause", "bot0", token: "two-lines.token")
                    #expect(
                        twoLines.code == 2 && twoLines.stderr.hasPrefix("token file two-lines.token holds a space, a line break"))
                    #expect(twoLines.stderr.split(separator: "\n").count == 1 && !twoLines.stderr.contains(adminSecret))
                    #expect(emulator.isPolling(tokens[0]))
                    let unknown = try await ctl("restart", "nobody")
                    #expect(
                        unknown.code == 2 && unknown.stderr.contains("no bot named 'nobody' in this host"), "\(unknown.stderr)")
                    let partly = try await ctl("resume", "nobody", "bot0")
                    #expect(partly.code == 2 && partly.stdout == "bot0: polling\n", "an unknown name does not stop the others")
                    let notAHost = try await BothostProcess.run(
                        ["ctl", "bots", "--admin", emulator.baseURL], in: directory)
                    #expect(notAHost.code == 1 && notAHost.stderr.hasSuffix("a BotHost admin server?\n"), "\(notAHost.stderr)")

                    let paused = try await ctl("pause", "bot0")
                    #expect(paused.code == 0 && paused.stdout == "bot0: paused\n", "\(paused.stdout)\(paused.stderr)")
                    #expect(await emulator.waitUntil { !emulator.isPolling(tokens[0]) })
                    let resumed = try await ctl("resume", "bot0")
                    #expect(resumed.code == 0 && resumed.stdout == "bot0: polling\n", "\(resumed.stdout)\(resumed.stderr)")
                    #expect(await emulator.waitUntil { emulator.isPolling(tokens[0]) })
                    let restarted = try await ctl("restart", "bot0")
                    #expect(restarted.code == 0 && restarted.stdout.hasPrefix("bot0: "), "\(restarted.stderr)")
                    #expect(await emulator.waitUntil(timeout: .seconds(20)) { emulator.callCount("getMe", of: tokens[0]) == 2 })

                    // A dead letter: listed, refused without the token, replayed with it.
                    emulator.sendText("/hang 1", to: tokens[0])
                    let setAside = "update set aside as a dead letter"
                    #expect(await emulator.waitUntil(timeout: .seconds(30)) { host.stderr.contains(setAside) })
                    let letters = try await ctl("dead-letters", "--json", token: nil)
                    struct Letter: Decodable { var id: String }
                    let id = try #require(try JSONDecoder().decode([Letter].self, from: Data(letters.stdout.utf8)).first?.id)
                    #expect(id.hasPrefix("bot0-"))
                    let listed = try await ctl("dead-letters", token: nil)
                    #expect(listed.stdout.contains(id) && listed.stdout.hasSuffix("1 dead letter\n"), "\(listed.stdout)")
                    #expect(try await admin("GET", "\(base)/dead-letters").body.contains(#""id":"\#(id)""#))
                    #expect(try await admin("POST", "\(base)/dead-letters/\(id)/replay").status == 401)
                    #expect(try await ctl("replay", id, token: nil).code == 2)
                    let mistyped = try await ctl("replay", "bot0-999999")
                    #expect(
                        mistyped.code == 2 && mistyped.stderr.contains("unknown dead letter 'bot0-999999'"), "\(mistyped.stderr)")
                    let replayed = try await ctl("replay", id)
                    #expect(replayed.code == 0 && replayed.stdout == "\(id): handed back\n", "\(replayed.stderr)")
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(45)) {
                            host.stderr.components(separatedBy: setAside).count == 3
                        })
                    #expect(host.stderr.contains("control: dead letter \(id) handed back by 127.0.0.1:"))

                    // A token changed in the manifest restarts just that bot.
                    emulator.addBot(renewed)
                    try writeManifest(
                        in: directory, emulator: emulator, tokens: [tokens[0], renewed], extra: adminWithToken, plugin: "chaos",
                        defaults: "max_attempts: 1\n  handler_timeout: 300ms")
                    #expect(try await ctl("reload", token: nil).code == 2)
                    let reload = try await ctl("reload")
                    #expect(
                        reload.code == 0 && reload.stdout == "reloaded: 0 added, 0 removed, 1 restarted, 1 unchanged\n",
                        "\(reload.stdout)\(reload.stderr)")
                    emulator.sendText("renewed", to: renewed)
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(20)) {
                            emulator.sentMessages(by: renewed).map(\.text) == ["renewed"]
                        })
                    #expect(emulator.callCount("getMe", of: tokens[0]) == 2, "bot0 was not restarted by the reload")

                    try "version: 1\nbots: []\n".write(
                        to: directory.appendingPathComponent(manifest), atomically: true, encoding: .utf8)
                    let invalid = try await ctl("reload")
                    #expect(invalid.code == 2)
                    #expect(
                        invalid.stderr.hasSuffix("the manifest has 1 problem; the running bots are kept\n"), "\(invalid.stderr)")

                    let unreachable = try await BothostProcess.run(
                        ["ctl", "bots", "--admin", "http://127.0.0.1:1"], in: directory)
                    #expect(unreachable.code == 1)
                    #expect(
                        unreachable.stderr.hasPrefix("cannot reach the admin server at http://127.0.0.1:1: "),
                        "\(unreachable.stderr)")
                    #expect(unreachable.stderr.split(separator: "\n").count == 1)

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    for output in outputs + [host.stderr] {
                        #expect(!output.contains(processSecret))
                        #expect(!output.contains(adminSecret))
                    }
                }
            }
        }
    }
}
