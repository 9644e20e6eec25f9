import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import Testing

@testable import BotHostCore

@Suite struct PollingPipelineTests {
    @Test func defaultRetrySequenceThenGiveUp() async throws {
        let token = uniqueToken()
        let clock = ManualClock(advancesOnSleep: true)
        try await withHost(
            bots: bot("news", token), clock: clock, tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.serverError(status: 502), method: "getUpdates", count: 6, for: token)
            }
        ) { fixture in
            #expect(await fixture.exitStatus == .botFailed)
            #expect(clock.sleeps == [5, 10, 20, 40, 80].map { .seconds($0) })
            #expect(fixture.logLines(containing: "gave up after 5 retries").count == 1)
            _ = await fixture.stop()
        }
    }

    @Test func successResetsTheAttemptCount() async throws {
        let token = uniqueToken()
        let clock = ManualClock()
        try await withHost(
            bots: bot("news", token), clock: clock, tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.serverError(status: 502), method: "getUpdates", count: 2, for: token)
            }
        ) { fixture in
            let emulator = fixture.emulator
            for expected in [5, 10] {
                await clock.waitForSleepers()
                #expect(clock.sleeps.last == .seconds(Int64(expected)))
                #expect(fixture.state(of: "news") == .backingOff)
                clock.advance(by: .seconds(Int64(expected)))
            }
            #expect(await fixture.waitUntil { emulator.getUpdatesCalls(of: token).last?.outcome == .pending })
            #expect(fixture.state(of: "news") == .polling)
            fixture.emulator.injectFault(.serverError(status: 503), method: "getUpdates", for: token)
            fixture.emulator.sendText("wake", to: token)
            await clock.waitForSleepers()
            #expect(clock.sleeps == [5, 10, 5].map { .seconds($0) })
            clock.advance(by: .seconds(5))
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: "news").contains("wake") })
            #expect(await fixture.stop() == .success)
        }
    }

    /// A 429 is Telegram saying when to come back, not a failure: eight in a row (more
    /// than `max_retries`) are waited out and the bot polls on.
    @Test func rateLimitsAreWaitedOutWithoutSpendingRetries() async throws {
        let token = uniqueToken()
        let clock = ManualClock(advancesOnSleep: true)
        let name = "limited-\(token.botID)"
        try await withHost(
            bots: bot(name, token), clock: clock, tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.rateLimited(retryAfter: 2), method: "getUpdates", count: 8, for: token)
                emulator.sendText("after", to: token)
            }
        ) { fixture in
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: name).contains("after") })
            #expect(clock.sleeps == Array(repeating: .seconds(2), count: 8))
            #expect(
                fixture.logLines(containing: "rate limited by Telegram: polling again in 2s").count == 4,
                "the 1st, 2nd, 4th and 8th")
            #expect(fixture.logLines(containing: "gave up").isEmpty)
            #expect(await fixture.stop() == .success)
        }
    }

    /// A flood ban of an hour is honoured, shows in `/health` as `rate_limited` with the
    /// time the bot resumes, and does not hold up a stop.
    @Test func aLongRateLimitIsShownAndDoesNotDelayAStop() async throws {
        let token = uniqueToken()
        let clock = ManualClock()
        try await withHost(
            bots: bot("news", token), clock: clock, tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.rateLimited(retryAfter: 3600), method: "getUpdates", for: token)
            }
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "news") == .rateLimited })
            let resumesAt = try #require(fixture.host.botStatuses["news"]?.resumesAt)
            #expect(abs(resumesAt.timeIntervalSinceNow - 3600) < 60)
            let stopping = ContinuousClock.now
            #expect(await fixture.stop() == .success)
            #expect(ContinuousClock.now - stopping < .seconds(5))
        }
    }

    @Test func conflictsAreLoggedWithAttemptAndDelay() async throws {
        let token = uniqueToken()
        let clock = ManualClock(advancesOnSleep: true)
        try await withHost(
            bots: bot("news", token), clock: clock, tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.conflict, method: "getUpdates", count: 2, for: token)
                emulator.sendText("after", to: token)
            }
        ) { fixture in
            #expect(await fixture.waitUntil { RecordingPlugin.journal.handled(by: "news").contains("after") })
            let conflicts = fixture.logLines(containing: "conflict: another poller took this token")
            #expect(conflicts.count == 2)
            #expect(conflicts.last?.contains("conflict: another poller took this token (attempt 2/5), retrying in 10s") == true)
            #expect(conflicts.allSatisfy { $0.contains("bot=news") })
            #expect(await fixture.stop() == .success)
        }
    }

    @Test func rejectedTokenFailsAtOnceWithoutRetrying() async throws {
        let token = uniqueToken()
        let clock = ManualClock(advancesOnSleep: true)
        try await withHost(bots: bot("news", token), clock: clock, tokens: []) { fixture in
            #expect(await fixture.exitStatus == .botFailed)
            #expect(clock.sleeps.isEmpty)
            #expect(fixture.logLines(containing: "token was rejected").count == 1)
            #expect(!fixture.logs.lines.joined().contains("testsecret"))
            _ = await fixture.stop()
        }
    }

    @Test func webhookIsDeletedOrFailsWithAHint() async throws {
        let deleting = uniqueToken()
        let keeping = uniqueToken()
        try await withHost(
            bots: bot("deleting", deleting) + "\n" + bot("keeping", keeping, extra: "delete_webhook: false"),
            tokens: [deleting, keeping],
            prepare: { emulator in
                for token in [deleting, keeping] { emulator.setWebhook("https://example.com/hook", for: token) }
            }
        ) { fixture in
            let emulator = fixture.emulator
            #expect(await fixture.waitUntil { fixture.state(of: "deleting") == .polling })
            #expect(await fixture.waitUntil { fixture.state(of: "keeping") == .failed })
            #expect(emulator.webhookInfo(for: deleting).url.isEmpty)
            #expect(emulator.webhookInfo(for: keeping).url == "https://example.com/hook")
            #expect(fixture.logLines(containing: "set delete_webhook: true").count == 1)
            #expect(await fixture.stop() == .botFailed)
        }
    }

    @Test func chatsKeepTheirOrderAndAHungHandlerStallsNoOtherChat() async throws {
        let token = uniqueToken()
        try await withHost(
            bots: bot("order", token, extra: "handler_timeout: 60s, polling: { max_concurrent_updates: 8 }"), tokens: [token]
        ) { fixture in
            let emulator = fixture.emulator
            emulator.sendText("hang-1", to: token, from: User(id: 1, firstName: "Stuck"))
            for chat in 10..<15 {
                for index in 0..<10 {
                    emulator.sendText("slow-\(chat)-\(index)", to: token, from: User(id: Int64(chat), firstName: "U\(chat)"))
                }
            }
            #expect(await fixture.waitUntil { emulator.sentMessages(by: token).count == 50 })
            let sent = emulator.sentMessages(by: token)
            for chat in 10..<15 {
                let texts = sent.filter { $0.chatID == .id(Int64(chat)) }.map(\.text)
                #expect(texts == (0..<10).map { "slow-\(chat)-\($0)" })
            }
            #expect(!sent.contains { $0.text == "hang-1" })
            let status = await fixture.stop()
            #expect(status == .success)
        }
    }

    /// A handler past its timeout is cancelled and its update tried again, `max_attempts`
    /// tries in all; then the update is a dead letter and its chat moves on.
    @Test func aHandlerThatKeepsTimingOutIsTriedMaxAttemptsTimesThenSetAside() async throws {
        let token = uniqueToken()
        try await withHost(bots: bot("timeouts", token, extra: "handler_timeout: 1s, max_attempts: 2"), tokens: [token]) {
            fixture in
            let hang = fixture.emulator.sendText("hang", to: token)
            fixture.emulator.sendText("after", to: token)
            #expect(await fixture.waitUntil { fixture.emulator.sentMessages(by: token).map(\.text) == ["after"] })
            let timedOut = fixture.logLines(containing: "handler timed out after 1s and was cancelled")
            #expect(timedOut.filter { $0.contains("update_id=\(hang)") }.count == 2, "\(timedOut)")
            let setAside = fixture.logLines(containing: "set aside as a dead letter: its handler timed out in each of 2 tries")
            #expect(setAside.filter { $0.contains("update_id=\(hang)") }.count == 1, "\(setAside)")
            #expect(await fixture.waitUntil { fixture.emulator.pendingUpdateIDs(of: token).isEmpty })
            #expect(await fixture.stop() == .success)
        }
    }

    @Test func oneBotInBackoffDoesNotDelayAnother() async throws {
        let stuck = uniqueToken()
        let busy = uniqueToken()
        // Real time: the busy bot's own retries (a send that meets a closed connection) must
        // go on, while the stuck bot's first backoff outlasts the test.
        try await withHost(
            bots: bot("stuck", stuck, extra: "retry: { max_retries: unlimited, initial_delay: 60s, jitter: 0 }") + "\n"
                + bot("busy", busy, extra: "handler_timeout: 5s"), clock: ContinuousClock(),
            tokens: [stuck, busy],
            prepare: { emulator in
                emulator.injectFault(.conflict, method: "getUpdates", count: 1000, for: stuck)
            }
        ) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "stuck") == .backingOff })
            for index in 0..<200 {
                fixture.emulator.sendText("m\(index)", to: busy, from: User(id: Int64(index % 7 + 1), firstName: "U"))
            }
            // Every message answered. In a loaded test process a send's answer is now and then
            // lost on the way back; its handler times out (5 s) and the update is tried again,
            // so a text may come twice and the whole may take tens of seconds.
            #expect(
                await fixture.waitUntil(timeout: .seconds(60)) {
                    Set(fixture.emulator.sentMessages(by: busy).map(\.text)).count == 200
                },
                "\(fixture.emulator.sentMessages(by: busy).count) sent; \(String(describing: fixture.host.botStatuses["busy"])); \(fixture.logLines(containing: "bot=busy").filter { !$0.contains("info") }.prefix(20)); calls \(fixture.emulator.callCount("sendMessage", of: busy))"
            )
            #expect(fixture.state(of: "stuck") == .backingOff)
            #expect(await fixture.stop() == .success)
        }
    }

    /// One send in 20 fails, and a retry lands on another call's turn at random: with the
    /// default 3 retries, about one run in ten has a send fail 4 times in a row (a reply
    /// rightly given up), so these bots allow 8 retries.
    @Test func twentyBotsUnderFaultsAnswerEveryUpdate() async throws {
        let tokens = (0..<20).map { _ in uniqueToken() }
        let bots = tokens.enumerated().map { index, token in
            bot("bot\(index)", token, extra: "retry: { max_retries: unlimited }, polling: { limit: 20 }, send_retries: 8")
        }.joined(separator: "\n")
        try await withHost(
            bots: bots, tokens: tokens,
            prepare: { emulator in
                for token in tokens {
                    emulator.injectPeriodicFaults(
                        [.serverError(status: 502), .dropConnection, .malformedJSON, .serverError(status: 500)],
                        method: "getUpdates", every: 20, for: token)
                    emulator.injectPeriodicFaults(
                        [.serverError(status: 500), .dropConnection, .rateLimited(retryAfter: 1), .malformedJSON],
                        method: "sendMessage", every: 20, for: token)
                }
                emulator.injectFault(.conflict, method: "getUpdates", count: 30, for: tokens[0])
            }
        ) { fixture in
            let emulator = fixture.emulator
            for index in 0..<500 {
                for token in tokens {
                    emulator.sendText("u\(index)", to: token, from: User(id: Int64(index % 25 + 1), firstName: "U"))
                }
            }
            let everyReply = await fixture.waitUntil(timeout: .seconds(120)) {
                tokens.allSatisfy { emulator.sentMessages(by: $0).count >= 500 }
            }
            #expect(everyReply, "\(tokens.map { emulator.sentMessages(by: $0).count })")
            if !everyReply { print(fixture.logs.lines.filter { $0.hasPrefix("error") }.prefix(20).joined(separator: "\n")) }
            for token in tokens {
                #expect(Set(emulator.sentMessages(by: token).map(\.text)) == Set((0..<500).map { "u\($0)" }))
            }
            #expect(await fixture.stop() == .success)
            for token in tokens { #expect(emulator.pendingUpdateIDs(of: token).isEmpty) }
        }
    }
}
