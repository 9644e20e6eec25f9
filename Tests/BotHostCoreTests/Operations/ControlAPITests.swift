import AsyncHTTPClient
import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import NIOCore
import NIOHTTP1
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// The control API on a host in this process (`isolation: none`, as tests host bots):
/// the token gate, pause, resume and restart, and what the reads answer.
@Suite struct ControlAPITests {
    static let secret = "control-test-token-5e1f0a"

    @Test func changesNeedTheTokenAndTakeEffect() async throws {
        let token = uniqueToken()
        let tokenFile = try Self.writeTokenFile()
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        try await withHost(
            bots: "  - { name: controlled, token: \"\(token.secretValue)\", plugin: recording }",
            extra: "admin: { listen: 127.0.0.1:0, token_file: \(tokenFile) }", tokens: [token]
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "controlled") == .polling && fixture.host.adminPort != nil })
            let base = "http://127.0.0.1:\(fixture.host.adminPort ?? 0)"
            let emulator = fixture.emulator

            let bare = try await request(.POST, "\(base)/bots/controlled/pause")
            #expect(bare.status == 401)
            #expect(bare.headers["WWW-Authenticate"].first == #"Bearer realm="bothost""#)
            #expect(try await request(.POST, "\(base)/bots/controlled/pause", token: "wrong-\(Self.secret)").status == 403)
            #expect(
                try await request(.POST, "\(base)/bots/controlled/pause", token: String(Self.secret.dropLast())).status == 403)
            #expect(fixture.state(of: "controlled") == .polling)

            let paused = try await request(.POST, "\(base)/bots/controlled/pause", token: Self.secret)
            #expect(paused.status == 200)
            let row = try JSONDecoder().decode(BotRow.self, from: Data(paused.body.utf8))
            #expect(row.state == "paused" && row.paused && row.lock == token.lockIDForTest)
            #expect(fixture.state(of: "controlled") == .paused)
            #expect(fixture.host.report.readiness().ready, "a paused bot is as the operator wants it")
            let polls = emulator.getUpdatesCalls(of: token).count
            emulator.sendText("while paused", to: token)
            try await Task.sleep(for: .milliseconds(300))
            #expect(emulator.getUpdatesCalls(of: token).count == polls)
            #expect(RecordingPlugin.journal.handled(by: "controlled").isEmpty)

            let resumed = try await request(.POST, "\(base)/bots/controlled/resume", token: Self.secret)
            #expect(resumed.status == 200 && resumed.body.contains(#""state":"polling""#))
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: "controlled") == ["while paused"] })

            let restarted = try await request(.POST, "\(base)/bots/controlled/restart", token: Self.secret)
            #expect(restarted.status == 202)
            #expect(
                await fixture.waitUntil {
                    emulator.callCount("getMe", of: token) == 2 && fixture.state(of: "controlled") == .polling
                })
            #expect(fixture.host.botStatuses["controlled"]?.restarts == 1)
            #expect(fixture.logLines(containing: "lock released").isEmpty, "a restart keeps the lock")

            let unknown = try await request(.POST, "\(base)/bots/nobody/restart", token: Self.secret)
            #expect(unknown.status == 404 && unknown.body.contains("no bot named 'nobody'"))
            let reload = try await request(.POST, "\(base)/reload", token: Self.secret)
            #expect(reload.status == 503 && reload.body.contains("no manifest file"), "\(reload.body)")

            let list = try await request(.GET, "\(base)/bots")
            let bots = try JSONDecoder().decode(BotList.self, from: Data(list.body.utf8))
            #expect(bots.bots.map(\.name) == ["controlled"])
            #expect(bots.pid == getpid())
            #expect(!list.body.contains("testsecret"))
            let rates = try await request(.GET, "\(base)/rates")
            #expect(rates.body.contains(#""interval_seconds":5"#))
            let page = try await request(.GET, "\(base)/")
            #expect(page.headers["Content-Type"].first == "text/html; charset=utf-8")
            #expect(page.headers["Content-Security-Policy"].first?.contains("default-src 'none'") == true)
            let links = page.body.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!links.contains("http://") && !links.contains("https://") && !links.contains("src="), "no external asset")
            #expect(fixture.logLines(containing: Self.secret).isEmpty)
            #expect(fixture.logLines(containing: "control: refused POST /bots/controlled/pause from 127.0.0.1:").count == 3)
            #expect(fixture.logLines(containing: "control: paused by 127.0.0.1:").count == 1)
            #expect(await fixture.stop() == .success)
        }
    }

    /// A pause ends a 429's wait (or a backoff) at once, rather than answering "pausing"
    /// for as long as Telegram asked the bot to wait.
    @Test func aPauseEndsARateLimitWait() async throws {
        let token = uniqueToken()
        let tokenFile = try Self.writeTokenFile()
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        try await withHost(
            bots: "  - { name: limited, token: \"\(token.secretValue)\", plugin: recording }",
            extra: "admin: { listen: 127.0.0.1:0, token_file: \(tokenFile) }", clock: ManualClock(), tokens: [token],
            prepare: { emulator in emulator.injectFault(.rateLimited(retryAfter: 3600), method: "getUpdates", for: token) }
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "limited") == .rateLimited && fixture.host.adminPort != nil })
            let base = "http://127.0.0.1:\(fixture.host.adminPort ?? 0)"
            let paused = try await request(.POST, "\(base)/bots/limited/pause", token: Self.secret)
            #expect(paused.status == 200 && paused.body.contains(#""state":"paused""#), "\(paused.body)")
            let resumed = try await request(.POST, "\(base)/bots/limited/resume", token: Self.secret)
            #expect(resumed.status == 200, "\(resumed.body)")
            fixture.emulator.sendText("after the pause", to: token)
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: "limited") == ["after the pause"] })
            #expect(await fixture.stop() == .success)
        }
    }

    /// A token file for ``secret``, in the temporary directory; the caller removes it.
    private static func writeTokenFile() throws -> String {
        let path = NSTemporaryDirectory() + "bothost-admin-\(UUID().uuidString).token"
        try "\(secret)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func request(
        _ method: HTTPMethod, _ url: String, token: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers, String(buffer: body))
    }
}

extension BotToken {
    /// The lock id that `GET /bots` shows for this token's bot.
    var lockIDForTest: String { LockID(botID: botID).hex }
}
