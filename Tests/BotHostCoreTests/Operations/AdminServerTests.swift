import AsyncHTTPClient
import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import TelegramBotAPI
import Testing

@testable import BotHostCore

@Suite struct AdminServerTests {
    @Test func healthReadyAndMetricsOverHTTP() async throws {
        let good = uniqueToken()
        try await withHost(
            bots: """
                  - { name: news, token: "\(good.secretValue)", plugin: recording }
                """,
            extra: "admin: { listen: 127.0.0.1:0 }", tokens: [good]
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.host.adminPort != nil })
            let base = "http://127.0.0.1:\(fixture.host.adminPort ?? 0)"

            #expect(await fixture.waitUntil { fixture.state(of: "news") == .polling })
            let ready = try await get("\(base)/ready")
            #expect(ready.status == 200)
            fixture.emulator.sendText("hello", to: good)
            fixture.emulator.sendText("fail please", to: good)
            #expect(await fixture.waitUntil { fixture.host.botStatuses["news"]?.updatesHandled == 2 })
            // The journal's counts come with its housekeeping, every few seconds.
            #expect(await fixture.waitUntil { fixture.host.botStatuses["news"]?.journal?.finished == 2 })

            let health = try await get("\(base)/health")
            #expect(health.status == 200)
            let body = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
            let bots = body?["bots"] as? [[String: Any]]
            #expect(bots?.first?["name"] as? String == "news")
            #expect(bots?.first?["state"] as? String == "polling")
            #expect(bots?.first?["updates_handled"] as? Int == 2)
            #expect(bots?.first?["handler_errors"] as? Int == 1)
            #expect(body?["pid"] as? Int == Int(getpid()))
            let journal = bots?.first?["journal"] as? [String: Int]
            #expect(journal == ["unfinished": 0, "dead_letters": 0, "finished": 2])
            #expect(!health.body.contains("testsecret"))

            let metrics = try await get("\(base)/metrics")
            #expect(metrics.status == 200)
            for line in [
                #"bothost_updates_received_total{bot="news"} 2"#, #"bothost_updates_handled_total{bot="news"} 2"#,
                #"bothost_handler_errors_total{bot="news"} 1"#, #"bothost_bot_state{bot="news",state="polling"} 1"#,
                #"bothost_lock_held{bot="news"} 1"#, #"bothost_journal_finished{bot="news"} 2"#,
                #"bothost_journal_unfinished{bot="news"} 0"#,
            ] {
                #expect(metrics.body.contains(line), "missing \(line)")
            }
            #expect(metrics.body.contains("bothost_handler_duration_seconds_bucket"))
            #expect(!metrics.body.contains("testsecret"))
            #expect(await fixture.stop() == .success)
        }
    }

    /// A service that fails (here the admin server, its port taken) stops the host
    /// gracefully: one line naming the address, exit 1, no bot polled, nothing left hanging.
    @Test func anAdminPortInUseEndsTheHostWithOneLine() async throws {
        let taken = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(taken) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(taken, $0, length) == 0 && listen(taken, 1) == 0 && getsockname(taken, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let good = uniqueToken()
        try await withHost(
            bots: """
                  - { name: news, token: "\(good.secretValue)", plugin: recording }
                """,
            extra: "admin: { listen: 127.0.0.1:\(port) }", tokens: [good]
        ) { fixture in
            #expect(await fixture.exitStatus == .botFailed)
            #expect(fixture.logLines(containing: "the admin server cannot listen on 127.0.0.1:\(port)").count == 1)
            #expect(fixture.emulator.getUpdatesCalls(of: good).isEmpty)
        }
    }

    @Test func notReadyWhileABotIsNotPolling() async throws {
        let good = uniqueToken()
        let rejected = uniqueToken()
        try await withHost(
            bots: """
                  - { name: fine, token: "\(good.secretValue)", plugin: recording }
                  - { name: wrong, token: "\(rejected.secretValue)", plugin: recording }
                """,
            extra: "admin: { listen: 127.0.0.1:0 }", tokens: [good]
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "wrong") == .failed && fixture.state(of: "fine") == .polling })
            let ready = try await get("http://127.0.0.1:\(fixture.host.adminPort ?? 0)/ready")
            #expect(ready.status == 503)
            #expect(ready.body.contains("wrong") && !ready.body.contains("fine"))
            #expect(await fixture.stop() == .botFailed)
        }
    }

    private func get(_ url: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }
}
