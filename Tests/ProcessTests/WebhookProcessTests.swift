import BotAPIEmulator
import BotHostCore
import ChildProcesses
import Foundation
import TelegramBotAPI
import Testing

extension LongProcessTests {
    /// Webhook ingress with real `bothost` processes: the emulator posts every update to
    /// the host's one listener over real sockets, as Telegram would.
    @Suite struct WebhookProcessTests {
        /// `ingress:` for a listener on `port`, Telegram posting to `public_url/<lock id>`.
        static func ingress(port: Int, scheme: String = "http", maxConnections: Int = 8, tls: String = "") -> String {
            """
            ingress:
              mode: webhook
              listen: 127.0.0.1:\(port)
              public_url: \(scheme)://127.0.0.1:\(port)/tg
              max_connections: \(maxConnections)
              \(tls)
            """
        }

        /// Waits until every bot's webhook is set as the host wants it.
        static func waitForWebhooks(_ tokens: [BotToken], on emulator: BotAPIEmulator) async -> Bool {
            await emulator.waitUntil(timeout: .seconds(60)) {
                tokens.allSatisfy { emulator.webhookInfo(for: $0).url.hasSuffix(LockID(botID: $0.botID).hex) }
            }
        }

        /// The texts a bot answered, and those it answered more than once.
        static func answers(of token: BotToken, on emulator: BotAPIEmulator) -> (texts: Set<String>, repeated: [String]) {
            let texts = emulator.sentMessages(by: token).map(\.text)
            let counts = Dictionary(texts.map { ($0, 1) }, uniquingKeysWith: +)
            return (Set(texts), counts.filter { $0.value > 1 }.map(\.key))
        }

        @Test func fiftyBotsOnOnePortAnswerEveryUpdateOnce() async throws {
            let tokens = processTokens(50, test: 80)
            let perBot = 200
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let port = freeLocalPort()
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: Self.ingress(port: port),
                        defaults: "max_attempts: 3")
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await Self.waitForWebhooks(tokens, on: emulator), "\(host.stderr)")
                    // In waves of 2,500: a burst of all 10,000 at once can keep a debug build's
                    // emulator from answering a sendMessage within the host's 30 s, and a reply
                    // sent again after a timeout shows twice (as it would in Telegram).
                    var all = true
                    for wave in stride(from: 0, to: perBot, by: 50) {
                        for index in wave..<wave + 50 {
                            for (bot, token) in tokens.enumerated() {
                                emulator.sendText(
                                    "u\(index)", to: token, from: User(id: Int64(1 + (index + bot) % 20), firstName: "U"))
                            }
                        }
                        all =
                            await emulator.waitUntil(timeout: .seconds(120)) {
                                tokens.allSatisfy { emulator.sentCount(by: $0) >= wave + 50 }
                            } && all
                    }
                    let total = tokens.map { emulator.sentCount(by: $0) }.reduce(0, +)
                    #expect(all, "answered \(total) of \(tokens.count * perBot)")
                    try await Task.sleep(for: .milliseconds(500))
                    let problems = host.stderr.split(separator: "\n").filter {
                        $0.contains("level=warning") || $0.contains("level=error")
                    }
                    for token in tokens {
                        let (texts, repeated) = Self.answers(of: token, on: emulator)
                        #expect(texts == Set((0..<perBot).map { "u\($0)" }))
                        #expect(repeated.isEmpty, "answered twice: \(repeated); the host's warnings: \(problems.prefix(20))")
                        #expect(emulator.getUpdatesCalls(of: token).allSatisfy { $0.outcome == .webhookConflict })
                    }
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    // A stop keeps the webhook: Telegram goes on delivering to the next run.
                    #expect(tokens.allSatisfy { !emulator.webhookInfo(for: $0).url.isEmpty })
                    #expect(!host.stderr.contains(processSecret))
                }
            }
        }

        @Test func refusedDeliveriesReachNoBot() async throws {
            let tokens = processTokens(2, test: 81)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let port = freeLocalPort()
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        extra: Self.ingress(port: port) + "\nisolation: { mode: none }\nadmin: { listen: \"127.0.0.1:0\" }")
                    let host = try BothostProcess(["run", "--log-level", "trace", manifest], in: directory)
                    #expect(await Self.waitForWebhooks(tokens, on: emulator), "\(host.stderr)")
                    let path = "/tg/\(LockID(botID: tokens[0].botID).hex)"
                    let secret = WebhookSecret(token: tokens[0]).value
                    let otherSecret = WebhookSecret(token: tokens[1]).value
                    let update = Array(
                        #"{"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "refused"}}"#
                            .utf8)
                    func post(
                        _ path: String, secret: String?, body: [UInt8], length: Int? = nil, byteInterval: Duration? = nil
                    ) async throws -> (status: Int?, elapsed: Duration) {
                        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        head += "Content-Length: \(length ?? body.count)"
                        if let secret { head += "\r\nX-Telegram-Bot-Api-Secret-Token: \(secret)" }
                        return try await RawHTTP.status(port: port, head: head, body: body, byteInterval: byteInterval)
                    }
                    #expect(try await post(path, secret: nil, body: update).status == 401)
                    #expect(try await post(path, secret: "wrong", body: update).status == 403)
                    #expect(try await post(path, secret: otherSecret, body: update).status == 403)
                    #expect(try await post("/tg/0123456789abcdef0123456789abcdef", secret: secret, body: update).status == 404)
                    #expect(try await post(path, secret: secret, body: Array("not json".utf8)).status == 400)
                    #expect(try await post(path, secret: secret, body: Array("[1, 2]".utf8)).status == 400)
                    let large = try await post(path, secret: secret, body: [UInt8](repeating: 0x20, count: 10 << 20))
                    #expect(large.status == 413)
                    let slow = try await post(path, secret: secret, body: update, byteInterval: .seconds(1))
                    #expect(slow.status == 408)
                    #expect(slow.elapsed < .seconds(15), "\(slow.elapsed)")
                    // The right secret is taken, once, however often it comes.
                    #expect(try await post(path, secret: secret, body: update).status == 200)
                    #expect(try await post(path, secret: secret, body: update).status == 200)
                    #expect(await emulator.waitUntil { emulator.sentCount(by: tokens[0]) == 1 })
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(emulator.sentMessages(by: tokens[0]).map(\.text) == ["refused"])
                    #expect(emulator.sentCount(by: tokens[1]) == 0)
                    let base = try #require(await adminURL(of: host))
                    let health = try await admin("GET", "\(base)/health").body
                    #expect(health.contains(#""state":"receiving""#), "\(health)")
                    #expect(health.contains(#""pending_update_count":0"#) && health.contains(#""deliveries":1"#), "\(health)")
                    let metrics = try await admin("GET", "\(base)/metrics").body
                    for reason in ["no_secret", "wrong_secret", "too_large", "too_slow", "not_an_update"] {
                        #expect(metrics.contains(#"bothost_webhook_refusals_total{bot="bot0",reason="\#(reason)"}"#), "\(reason)")
                    }
                    #expect(metrics.contains(#"bothost_webhook_refusals_total{bot="",reason="unknown_bot"} 1"#))
                    #expect(metrics.contains(#"bothost_webhook_deliveries_total{bot="bot0",answer="duplicate"} 1"#))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                    for leaked in [secret, otherSecret, processSecret] { #expect(!host.stderr.contains(leaked)) }
                }
            }
        }

        /// SIGKILL while the emulator is delivering: every update is handled after the
        /// restart, whether its delivery had been answered 200 (it is in the journal) or not
        /// (Telegram delivers it again). None is committed twice: each run hands an update to
        /// the plugin once, and the restart hands over again only what was being handled
        /// when the SIGKILL came (at most one per chat), as with polling.
        @Test func aKilledHostLosesNoDelivery() async throws {
            let tokens = processTokens(3, test: 82)
            let perBot = 300
            let chats = 10
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let port = freeLocalPort()
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: Self.ingress(port: port), plugin: "chaos")
                    let first = try BothostProcess(["run", manifest], in: directory)
                    #expect(await Self.waitForWebhooks(tokens, on: emulator), "\(first.stderr)")
                    for index in 0..<perBot {
                        for token in tokens {
                            emulator.sendText("k\(index)", to: token, from: User(id: Int64(1 + index % chats), firstName: "K"))
                        }
                    }
                    _ = await emulator.waitUntil(timeout: .seconds(30)) {
                        tokens.map { emulator.sentCount(by: $0) }.reduce(0, +) >= perBot
                    }
                    first.signal(SIGKILL)
                    _ = await first.exitCode()
                    let accepted = tokens.map { emulator.webhookDeliveries(of: $0).filter { $0.status == 200 }.count }
                    let second = try BothostProcess(["run", manifest], in: directory)
                    let all = await emulator.waitUntil(timeout: .seconds(120)) {
                        tokens.allSatisfy { Set(emulator.sentMessages(by: $0).map(\.text)).count == perBot }
                    }
                    #expect(all, "\(tokens.map { Set(emulator.sentMessages(by: $0).map(\.text)).count }) of \(perBot) each")
                    #expect(accepted.allSatisfy { $0 > 0 && $0 < perBot }, "the SIGKILL came while delivering: \(accepted)")
                    try await Task.sleep(for: .milliseconds(500))
                    second.signal(SIGTERM)
                    #expect(await second.exitCode() == 0)
                    let firstRun = chaosHandoffs(in: first.stderr)
                    let secondRun = chaosHandoffs(in: second.stderr)
                    #expect(firstRun.values.allSatisfy { $0 == 1 }, "\(firstRun.filter { $0.value > 1 })")
                    #expect(secondRun.values.allSatisfy { $0 == 1 }, "\(secondRun.filter { $0.value > 1 })")
                    let again = Set(firstRun.keys).intersection(secondRun.keys)
                    #expect(again.count <= tokens.count * chats, "handed over again: \(again.sorted())")
                    #expect(firstRun.count + secondRun.count - again.count == tokens.count * perBot)
                    for token in tokens { #expect(emulator.pendingUpdateIDs(of: token).isEmpty) }
                }
            }
        }

        @Test func deliversOverHTTPSWithASelfSignedCertificate() async throws {
            let tokens = processTokens(2, test: 83)
            try await withEmulator(knowing: tokens) { emulator in
                try await withScratchDirectory { directory in
                    let openssl = try ChildProcess(
                        "/usr/bin/openssl",
                        [
                            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                            "-keyout", "key.pem", "-out", "cert.pem",
                        ], in: directory.path)
                    #expect(await openssl.exitCode() == 0)
                    let port = freeLocalPort()
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens,
                        extra: Self.ingress(
                            port: port, scheme: "https", tls: "tls: { cert_file: cert.pem, key_file: key.pem }"))
                    let host = try BothostProcess(["run", manifest], in: directory)
                    #expect(await Self.waitForWebhooks(tokens, on: emulator), "\(host.stderr)")
                    for token in tokens {
                        for index in 0..<20 { emulator.sendText("s\(index)", to: token) }
                    }
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(60)) { tokens.allSatisfy { emulator.sentCount(by: $0) == 20 } }
                    )
                    #expect(host.stderr.contains("webhook listener on https://"))
                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 0)
                }
            }
        }
    }
}
