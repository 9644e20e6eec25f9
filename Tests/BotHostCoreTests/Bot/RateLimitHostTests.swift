import AsyncHTTPClient
import BotAPIEmulator
import BotHostKit
import NIOCore
import Synchronization
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// A bot's `limits:` in a running host: its client's limiter counts in `/metrics`, and its
/// calls are replies inside handlers and bulk calls inside scheduled jobs.
@Suite struct RateLimitHostTests {
    @Test func waitsAnd429sAreInTheMetrics() async throws {
        let token = uniqueToken()
        try await withHost(
            bots: """
                  - { name: news, token: "\(token.secretValue)", plugin: recording }
                """,
            extra: "admin: { listen: 127.0.0.1:0 }", limits: "{ per_chat: 1/s burst 1 }", tokens: [token],
            prepare: { emulator in emulator.injectFault(.rateLimited(retryAfter: 2), method: "sendMessage", for: token) }
        ) { fixture in
            for index in 1...3 { fixture.emulator.sendText("hello \(index)", to: token) }
            #expect(await fixture.waitUntil { fixture.emulator.sentCount(by: token) == 3 })
            #expect(await fixture.waitUntil { fixture.host.adminPort != nil })
            let port = try #require(fixture.host.adminPort)
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            let metrics = String(buffer: try await response.body.collect(upTo: 1 << 20))
            for line in [#"bothost_send_rate_limited_total{bot="news"} 1"#, #"bothost_send_queue{bot="news"} 0"#] {
                #expect(metrics.contains(line), "missing \(line)")
            }
            let waits = metrics.split(separator: "\n").first { $0.hasPrefix(#"bothost_send_wait_seconds_count{bot="news"}"#) }
            #expect(waits?.split(separator: " ").last == "3", "the retry after the 429 and the two messages after it waited")
            #expect(!metrics.contains("testsecret"))
        }
    }

    @Test func handlersSendRepliesAndScheduledJobsSendBulk() async throws {
        let token = uniqueToken()
        try await withHost(
            bots: """
                  - { name: news, token: "\(token.secretValue)", plugin: priorities }
                """,
            plugins: [PrioritiesPlugin.self], tokens: [token]
        ) { fixture in
            fixture.emulator.sendText("hello", to: token)
            #expect(await fixture.waitUntil { PrioritiesPlugin.seen.count == 2 })
            #expect(PrioritiesPlugin.seen.priorities == [.reply, .bulk])
        }
    }
}

/// Notes the priority its handler runs with, and that of a job the handler schedules.
struct PrioritiesPlugin: BotPlugin {
    static let name = "priorities"
    static let seen = Seen()

    final class Seen: Sendable {
        private let state = Mutex<[SendPriority]>([])
        var priorities: [SendPriority] { state.withLock { $0 } }
        var count: Int { priorities.count }
        func note() { state.withLock { $0.append(SendPriority.current) } }
    }

    let context: BotContext

    init(context: BotContext) async throws {
        self.context = context
    }

    func handle(_ update: Update) async throws {
        Self.seen.note()
        context.scheduler.after(.zero, name: "job") { Self.seen.note() }
    }
}
