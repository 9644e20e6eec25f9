import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// DESIGN.md's CLI contract, as operators and scripts see it.
@Suite struct CommandLineTests {
    @Test func validateListsBotsOrEveryProblem() async throws {
        let tokens = processTokens(2, test: 20)
        try await withEmulator(knowing: []) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                let valid = try await BothostProcess.run(["validate", manifest], in: directory)
                #expect(valid.code == 0)
                #expect(valid.stdout.contains("bot0") && valid.stdout.contains("echo"))
                #expect(!valid.stdout.contains(processSecret))

                let broken = directory.appendingPathComponent("broken.yaml")
                try """
                version: 1
                bots:
                  - name: Bad Name
                    token: "12:\(processSecret)"
                    plugin: nope
                    retry: { max_delay: soon }
                """.write(to: broken, atomically: true, encoding: .utf8)
                let invalid = try await BothostProcess.run(["validate", "broken.yaml"], in: directory)
                #expect(invalid.code == 2)
                let lines = invalid.stderr.split(separator: "\n")
                #expect(lines.count == 3, "\(invalid.stderr)")
                #expect(lines.allSatisfy { $0.hasPrefix("broken.yaml:") })
                #expect(lines.contains { $0.hasPrefix("broken.yaml:6:25: bots[0].retry.max_delay:") })
                #expect(!invalid.stderr.contains(processSecret))
                let run = try await BothostProcess.run(["run", "broken.yaml"], in: directory)
                #expect(run.code == 2)
                #expect(run.stderr == invalid.stderr)
            }
        }
    }

    @Test func validateChecksPluginSettingsAndNeedsNoSecrets() async throws {
        try await withScratchDirectory { directory in
            try """
            version: 1
            bots:
              - { name: news, token_env: NEWS_TOKEN, plugin: autoposter, settings: { chat_id: 1, txt: hi, every: 1h } }
            """.write(to: directory.appendingPathComponent("typo.yaml"), atomically: true, encoding: .utf8)
            let typo = try await BothostProcess.run(["validate", "typo.yaml"], in: directory)
            #expect(typo.code == 2)
            #expect(typo.stderr == "typo.yaml:3:91: bots[0].settings.txt: unknown key 'txt'; did you mean 'text'?\n")
            let run = try await BothostProcess.run(["run", "typo.yaml"], in: directory)
            #expect(run.code == 2)
            #expect(run.stderr == "typo.yaml:3:30: bots[0].token_env: environment variable NEWS_TOKEN is not set\n" + typo.stderr)

            try """
            version: 1
            bots:
              - { name: news, token_env: NEWS_TOKEN, plugin: autoposter, settings: { chat_id: 1, text: hi, every: 1h } }
            """.write(to: directory.appendingPathComponent("bots.yaml"), atomically: true, encoding: .utf8)
            let valid = try await BothostProcess.run(["validate", "bots.yaml"], in: directory)
            #expect(valid.code == 0)
            #expect(valid.stdout.contains("(token not here)"))
            #expect(valid.stderr == "bots.yaml:3:30: bots[0].token_env: note: environment variable NEWS_TOKEN is not set\n")
            let strict = try await BothostProcess.run(["validate", "--require-secrets", "bots.yaml"], in: directory)
            #expect(strict.code == 2)
            #expect(strict.stderr == "bots.yaml:3:30: bots[0].token_env: environment variable NEWS_TOKEN is not set\n")
            let withSecret = try await BothostProcess.run(
                ["validate", "--require-secrets", "bots.yaml"], in: directory, environment: ["NEWS_TOKEN": "77:\(processSecret)"])
            #expect(withSecret.code == 0)
            #expect(!withSecret.stdout.contains(processSecret))
        }
    }

    /// A missing `admin.token_file` is a note for `validate` and a problem for `run`, which
    /// would otherwise start a control API that refuses every change.
    @Test func runNeedsTheAdminTokenFile() async throws {
        try await withScratchDirectory { directory in
            try """
            version: 1
            admin: { listen: 127.0.0.1:0, token_file: missing.token }
            bots:
              - { name: news, token: "77:\(processSecret)", plugin: echo }
            """.write(to: directory.appendingPathComponent("bots.yaml"), atomically: true, encoding: .utf8)
            let valid = try await BothostProcess.run(["validate", "bots.yaml"], in: directory)
            #expect(valid.code == 0)
            #expect(valid.stderr.hasPrefix("bots.yaml:2:43: admin.token_file: note: cannot read token file "), "\(valid.stderr)")
            #expect(valid.stderr.hasSuffix("missing.token here: no such file; bothost run needs it\n"), "\(valid.stderr)")
            let run = try await BothostProcess.run(["run", "bots.yaml"], in: directory)
            #expect(run.code == 2)
            #expect(run.stderr.hasPrefix("bots.yaml:2:43: admin.token_file: cannot read token file "), "\(run.stderr)")
            #expect(run.stderr.hasSuffix("missing.token here: no such file\n"), "\(run.stderr)")
        }
    }

    @Test func statusSaysWhyItListsNothing() async throws {
        try await withScratchDirectory { directory in
            let empty = directory.appendingPathComponent("locks").path
            let status = try await BothostProcess.run(["status", "--lock-dir", empty], in: directory)
            #expect(status.code == 0)
            #expect(status.stderr.contains("no lock files in \(empty)"))
        }
    }

    @Test func jsonLogsKeepNumbersAsNumbers() async throws {
        try await withScratchDirectory { directory in
            try """
            version: 1
            api_url: http://127.0.0.1:1
            isolation: { mode: none }
            bots:
              - { name: news, token: "77:\(processSecret)", plugin: echo, retry: { max_retries: 0 } }
            """.write(to: directory.appendingPathComponent("bots.yaml"), atomically: true, encoding: .utf8)
            let run = try await BothostProcess.run(["run", "--log-format", "json", "bots.yaml"], in: directory)
            #expect(run.code == 1)
            #expect(run.stderr.contains(#/"pid":\d+[,}]/#), "\(run.stderr)")
            #expect(run.stderr.contains(#""msg":"1 bot failed""#))
            #expect(!run.stderr.contains(processSecret))
        }
    }

    @Test func usageErrorsExitTwoAndHelpExitsZero() async throws {
        try await withScratchDirectory { directory in
            #expect(try await BothostProcess.run(["run"], in: directory).code == 2)
            #expect(try await BothostProcess.run(["frobnicate"], in: directory).code == 2)
            #expect(try await BothostProcess.run(["run", "missing.yaml"], in: directory).code == 2)
            let help = try await BothostProcess.run(["--help"], in: directory)
            #expect(help.code == 0)
            #expect(help.stdout.contains("validate"))
            let emulatorHelp = try await BothostProcess.run(["emulator", "--help"], in: directory)
            #expect(emulatorHelp.stdout.contains("/control/messages"))
        }
    }

    @Test func theStandaloneEmulatorServesBotsAndControls() async throws {
        try await withScratchDirectory { directory in
            let token = processTokens(1, test: 21)[0]
            let (emulator, base) = try await standaloneEmulator(knowing: token, in: directory)
            let client = BotAPIClient(token: token, configuration: .init(baseURL: base))
            #expect(try await client.getMe().id == Int64(token.botID))
            var control = URLRequest(url: URL(string: "\(base)/control/messages")!)
            control.httpMethod = "POST"
            control.httpBody = Data("{\"token\":\"\(token.secretValue)\",\"text\":\"ping\"}".utf8)
            _ = try await URLSession.shared.data(for: control)
            #expect(try await client.getUpdates(offset: nil).map(\.message?.text) == ["ping"])
            try await client.shutdown()
            emulator.signal(SIGTERM)
            #expect(await emulator.exitCode() == 0)
        }
    }

    /// `--limits telegram`: ten messages to one chat at once pass three at a time (a
    /// burst, and one a second after), and the control API counts the 429s.
    @Test func theStandaloneEmulatorEnforcesTelegramsLimits() async throws {
        try await withScratchDirectory { directory in
            let token = processTokens(1, test: 22)[0]
            let (emulator, base) = try await standaloneEmulator(
                knowing: token, in: directory, arguments: ["--limits", "telegram"])
            let client = BotAPIClient(token: token, configuration: .init(baseURL: base, sendRetries: 0))
            let tooMany = BotAPIError.rateLimited(retryAfter: .seconds(1), description: "Too Many Requests: retry after 1")
            let refused = await withTaskGroup(of: Bool.self) { group in
                for index in 1...10 {
                    group.addTask {
                        do {
                            _ = try await client.sendMessage(chatID: 1, text: "at once \(index)")
                            return false
                        } catch {
                            return error as? BotAPIError == tooMany
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(refused >= 5, "a slow machine lets a few more through, never all")
            let (count, _) = try await URLSession.shared.data(
                from: URL(string: "\(base)/control/rate_limited?token=\(token.secretValue)")!)
            #expect(String(decoding: count, as: UTF8.self) == #"{"count":\#(refused)}"#)
            try await client.shutdown()
            emulator.signal(SIGTERM)
            #expect(await emulator.exitCode() == 0)
        }
    }

    /// Starts `bothost emulator --port 0` knowing `token`, and returns it with its base URL.
    private func standaloneEmulator(
        knowing token: BotToken, in directory: URL, arguments: [String] = []
    ) async throws -> (BothostProcess, String) {
        try "\(token.secretValue)\n".write(to: directory.appendingPathComponent("tokens.txt"), atomically: true, encoding: .utf8)
        let emulator = try BothostProcess(["emulator", "--port", "0", "--tokens", "tokens.txt"] + arguments, in: directory)
        var port: Int?
        for _ in 0..<2000 where port == nil {
            port = emulator.stdout.split(separator: "\n").first.flatMap { line in
                line.hasPrefix("listening on http://127.0.0.1:") ? Int(line.split(separator: ":").last!) : nil
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return (emulator, "http://127.0.0.1:\(try #require(port))")
    }
}

/// SIGHUP reloads the manifest of a running `bothost`.
@Suite struct ReloadProcessTests {
    /// The sandbox's emulator stops with the host: after the bots, and at once, though
    /// their long polls were pending in it.
    @Test func theSandboxStartsAndStopsCleanly() async throws {
        try await withScratchDirectory { directory in
            try """
            version: 1
            api_url: sandbox
            lock: { backend: file, dir: \(directory.path)/locks }
            state_dir: \(directory.path)/state
            sandbox: { users: 2, messages_per_minute: 600 }
            defaults: { limits: off }   # the users write 5 a second each, more than one chat may get back
            bots:
              - { name: echo, token: "700100:\(processSecret)", plugin: echo }
            """.write(to: directory.appendingPathComponent("sandbox.yaml"), atomically: true, encoding: .utf8)
            let host = try BothostProcess(["run", "sandbox.yaml"], in: directory)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while !host.stderr.contains("sandbox: echo → chat"), clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(host.stderr.contains("sandbox: echo → chat"), "the bot answered a simulated user")
            let signalled = clock.now
            host.signal(SIGTERM)
            #expect(await host.exitCode(timeout: .seconds(15)) == 0, "\(host.stderr.suffix(600))")
            #expect(clock.now - signalled < .seconds(5))
            #expect(!host.stderr.contains(processSecret))
        }
    }

    /// A token file renewed under an unchanged manifest: SIGHUP reads it again, and the
    /// bot's worker runs it with the new token (a worker keeps its last parse of the
    /// manifest only while the supervisor has not read it again).
    @Test func aRenewedTokenFileTakesEffectInTheWorkerOnReload() async throws {
        let old = processTokens(1, test: 45)[0]
        let renewed = try BotToken("\(old.botID):\(processSecret)renewed")
        try await withEmulator(knowing: [old]) { emulator in
            try await withScratchDirectory { directory in
                let tokenFile = directory.appendingPathComponent("bot.token")
                try "\(old.secretValue)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
                let manifest = try writeManifest(
                    in: directory, emulator: emulator, tokens: [], extra: "isolation: { workers: 1 }")
                let bot = "  - { name: bot0, token_file: bot.token, plugin: echo }\n"
                let handle = try FileHandle(forWritingTo: directory.appendingPathComponent(manifest))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(bot.utf8))
                try handle.close()
                let host = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil(timeout: .seconds(30)) { emulator.isPolling(old) }, "\(host.stderr)")

                emulator.addBot(renewed)
                try "\(renewed.secretValue)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
                host.signal(SIGHUP)
                #expect(await emulator.waitUntil { host.stderr.contains("reload: 0 added, 0 removed, 1 restarted, 0 unchanged") })
                emulator.sendText("renewed", to: renewed)
                #expect(
                    await emulator.waitUntil(timeout: .seconds(20)) {
                        emulator.sentMessages(by: renewed).map(\.text) == ["renewed"]
                    },
                    "\(host.stderr.suffix(800))")
                host.signal(SIGTERM)
                #expect(await host.exitCode() == 0)
                #expect(!host.stderr.contains(processSecret))
            }
        }
    }

    @Test func anInvalidReloadKeepsTheBotsAndAValidOneApplies() async throws {
        let tokens = processTokens(2, test: 30)
        try await withEmulator(knowing: tokens) { emulator in
            try await withScratchDirectory { directory in
                let manifest = try writeManifest(in: directory, emulator: emulator, tokens: [tokens[0]])
                let host = try BothostProcess(["run", manifest], in: directory)
                #expect(await emulator.waitUntil { emulator.isPolling(tokens[0]) })

                try "version: 1\nbots: [ {name: oops".write(
                    to: directory.appendingPathComponent(manifest), atomically: true, encoding: .utf8)
                host.signal(SIGHUP)
                #expect(await emulator.waitUntil { host.stderr.contains("keeping the running bots") })
                #expect(emulator.isPolling(tokens[0]))

                try writeManifest(in: directory, emulator: emulator, tokens: tokens)
                host.signal(SIGHUP)
                #expect(await emulator.waitUntil { emulator.isPolling(tokens[1]) })
                #expect(host.stderr.contains("reload: 1 added, 0 removed, 0 restarted, 1 unchanged"))
                host.signal(SIGTERM)
                #expect(await host.exitCode() == 0)
            }
        }
    }
}
