import BotAPIEmulator
import Foundation
import TelegramBotAPI
import TestSupport
import Testing

@Suite struct BotAPIClientTests {
    @Test func getMeReturnsTheBot() async throws {
        try await withClient { _, client in
            let me = try await client.getMe()
            #expect(me.id == 123_456_789)
            #expect(me.isBot)
        }
    }

    @Test func longPollAnswersAsSoonAsAnUpdateArrives() async throws {
        try await withClient { emulator, client in
            let clock = ContinuousClock()
            async let poll = client.getUpdates(offset: nil, timeout: .seconds(30))
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            let injected = clock.now
            emulator.sendText("hello", to: testToken)
            let updates = try await poll
            #expect(clock.now - injected < .seconds(5), "answered by the update, not by the 30 s timeout")
            #expect(updates.map(\.message?.text) == ["hello"])
        }
    }

    @Test func offsetsConfirmEarlierUpdates() async throws {
        try await withClient { emulator, client in
            let first = emulator.sendText("one", to: testToken)
            emulator.sendText("two", to: testToken)
            #expect(try await client.getUpdates(offset: nil).count == 2)
            let rest = try await client.getUpdates(offset: first + 1)
            #expect(rest.map(\.message?.text) == ["two"])
            #expect(emulator.pendingUpdateIDs(of: testToken) == [first + 1])
            #expect(try await client.getUpdates(offset: first + 2).isEmpty)
            #expect(emulator.pendingUpdateIDs(of: testToken).isEmpty)
        }
    }

    @Test func updatesKeepUnknownKindsAndFields() async throws {
        try await withClient { emulator, client in
            emulator.injectUpdate(
                kind: "business_message_2031",
                payload: .object(["chat": .object(["id": .number(7)]), "future_field": .string("kept")]), to: testToken)
            let update = try #require(try await client.getUpdates(offset: nil).first)
            #expect(update.kind == "business_message_2031")
            #expect(update.raw["business_message_2031"]?["future_field"] == .string("kept"))
            #expect(update.chatID == 7)
        }
    }

    @Test func aSecondPollerEndsTheFirstWithConflict() async throws {
        try await withClient { emulator, client in
            let second = BotAPIClient(token: testToken, configuration: .init(baseURL: emulator.baseURL))
            defer { Task { try? await second.shutdown() } }
            let first = Task { try await client.getUpdates(offset: nil, timeout: .seconds(20)) }
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            async let later: [Update] = second.getUpdates(offset: nil, timeout: .seconds(1))
            await #expect(
                throws: BotAPIError.conflict(
                    .otherGetUpdates,
                    description:
                        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            ) { _ = try await first.value }
            _ = try await later
        }
    }

    @Test func webhookBlocksPolling() async throws {
        try await withClient { emulator, client in
            try await client.setWebhook(url: "https://example.com/hook")
            #expect(try await client.getWebhookInfo().url == "https://example.com/hook")
            await #expect(
                throws: BotAPIError.conflict(
                    .webhookActive,
                    description:
                        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
                )
            ) { _ = try await client.getUpdates(offset: nil) }
            try await client.deleteWebhook()
            #expect(try await client.getUpdates(offset: nil).isEmpty)
        }
    }

    @Test func rateLimitCarriesRetryAfterAndPollsAreNotRetried() async throws {
        try await withClient { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 7), method: "getUpdates", for: testToken)
            await #expect(
                throws: BotAPIError.rateLimited(retryAfter: .seconds(7), description: "Too Many Requests: retry after 7")
            ) {
                _ = try await client.getUpdates(offset: nil)
            }
            #expect(emulator.callCount("getUpdates", of: testToken) == 1)
        }
    }

    @Test func outgoingCallsWaitOutRateLimitsAndRetry() async throws {
        let clock = ManualClock()
        try await withClient(configuration: {
            $0.clock = clock; $0.sendRetries = 3
        }) { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 5), method: "sendMessage", count: 3, for: testToken)
            async let sent = client.sendMessage(chatID: 42, text: "hi")
            for _ in 0..<3 {
                await clock.waitForSleepers()
                clock.advance(by: .seconds(5))
            }
            #expect(clock.sleeps == [.seconds(5), .seconds(5), .seconds(5)])
            let message = try await sent
            #expect(message.text == "hi")
            #expect(emulator.callCount("sendMessage", of: testToken) == 4)
            #expect(emulator.sentMessages(by: testToken).map(\.text) == ["hi"])
        }
    }

    @Test func outgoingCallsGiveUpAfterSendRetries() async throws {
        try await withClient(configuration: {
            $0.clock = ManualClock(advancesOnSleep: true); $0.sendRetries = 2
        }) { emulator, client in
            emulator.injectFault(.rateLimited(retryAfter: 1), method: "sendMessage", count: 5, for: testToken)
            await #expect(throws: BotAPIError.self) { _ = try await client.sendMessage(chatID: 42, text: "hi") }
            #expect(emulator.callCount("sendMessage", of: testToken) == 3)
        }
    }

    @Test func outgoingCallsResendAfterFailuresOnTheWay() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        try await withClient(configuration: {
            $0.clock = clock; $0.sendRetries = 3
        }) { emulator, client in
            for fault in [EmulatorFault.dropConnection, .serverError(status: 502), .malformedJSON] {
                emulator.injectFault(fault, method: "sendMessage", for: testToken)
            }
            let sent = try await client.sendMessage(chatID: 42, text: "again")
            #expect(sent.text == "again")
            #expect(emulator.callCount("sendMessage", of: testToken) == 4)
            #expect(clock.sleeps == [.milliseconds(100), .milliseconds(400), .milliseconds(1600)])
        }
    }

    /// A call whose connection cannot be made was never sent: it is sent again, apart from
    /// `sendRetries`, until its pauses would pass the request timeout. An address fails
    /// with NIO's `IOError`, a host name with its `NIOConnectionError`.
    @Test(arguments: ["http://127.0.0.1:1", "http://localhost:1"])
    func aCallThatNeverReachedTheServerIsSentAgainForTheRequestTimeout(server: String) async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let client = BotAPIClient(
            token: testToken,
            configuration: .init(baseURL: server, requestTimeout: .seconds(30), sendRetries: 1, clock: clock))
        let error = await #expect(throws: BotAPIError.self) {
            _ = try await client.sendMessage(chatID: 42, text: "nobody listens")
        }
        try await client.shutdown()
        guard case .unreachable(let text) = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(text.lowercased().contains("connection refused"), "\(text)")
        let seconds = [0.1, 0.4, 1.6, 5, 5, 5, 5, 5]
        #expect(clock.sleeps == seconds.map { Duration.milliseconds(Int($0 * 1000)) })
    }

    @Test func unknownTokenIsUnauthorized() async throws {
        try await withClient { emulator, _ in
            let stranger = BotAPIClient(token: try BotToken("999:nope"), configuration: .init(baseURL: emulator.baseURL))
            await #expect(throws: BotAPIError.unauthorized(description: "Unauthorized")) { _ = try await stranger.getMe() }
            try await stranger.shutdown()
        }
    }

    @Test(arguments: [
        (EmulatorFault.serverError(status: 502), "502"),
        (.dropConnection, "transport"),
        (.malformedJSON, "malformed"),
    ])
    func faultsBecomeTypedErrors(fault: EmulatorFault, expected: String) async throws {
        try await withClient { emulator, client in
            emulator.injectFault(fault, method: "getUpdates", for: testToken)
            do {
                _ = try await client.getUpdates(offset: nil)
                Issue.record("expected \(fault) to fail the call")
            } catch let error as BotAPIError {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test func cancellingAPendingPollEndsItAtOnce() async throws {
        try await withClient { emulator, client in
            let poll = Task { try await client.getUpdates(offset: nil, timeout: .seconds(30)) }
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            let clock = ContinuousClock()
            let cancelled = clock.now
            poll.cancel()
            await #expect(throws: CancellationError.self) { _ = try await poll.value }
            #expect(clock.now - cancelled < .seconds(1), "ended by the cancellation, not by the 30 s timeout")
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .abandoned })
        }
    }

    @Test func anInterruptionEndsAPendingPollAndItsTaskGoesOn() async throws {
        try await withClient { emulator, client in
            let interruption = CallInterruption()
            // Whether the poll ended with CancellationError while its task was not cancelled.
            let poll = Task { () async -> Bool in
                do {
                    _ = try await client.getUpdates(
                        offset: nil, limit: nil, timeout: .seconds(30), allowedUpdates: nil, interruptedBy: interruption)
                    return false
                } catch {
                    return error is CancellationError && !Task.isCancelled
                }
            }
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            let clock = ContinuousClock()
            let interrupted = clock.now
            interruption.interrupt()
            #expect(await poll.value)
            #expect(clock.now - interrupted < .seconds(1), "ended by the interruption, not by the 30 s timeout")
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .abandoned })

            // Interrupted before it starts, a call sends nothing; another interruption serves
            // the next call.
            await #expect(throws: CancellationError.self) {
                _ = try await client.getUpdates(
                    offset: nil, limit: nil, timeout: .seconds(30), allowedUpdates: nil, interruptedBy: interruption)
            }
            emulator.sendText("hello", to: testToken)
            let updates = try await client.getUpdates(
                offset: nil, limit: nil, timeout: .seconds(30), allowedUpdates: nil, interruptedBy: CallInterruption())
            #expect(updates.count == 1)
            let calls = emulator.getUpdatesCalls(of: testToken)
            #expect(calls.count == 2, "the call interrupted before it started sent nothing: \(calls)")
            #expect(calls.last?.outcome == .updates(updates.map(\.updateID)))
        }
    }

    @Test func fiveHundredBotsLongPollAtOnce() async throws {
        let tokens = try (1...500).map { try BotToken("\(10_000 + $0):secret\($0)") }
        try await withEmulator(knowing: tokens) { emulator in
            let clients = tokens.map { token in
                BotAPIClient(token: token, configuration: .init(baseURL: emulator.baseURL, maxConnections: 2))
            }
            let answered = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in clients {
                    group.addTask { try await client.getUpdates(offset: nil, timeout: .seconds(30)).count }
                }
                let allWaiting = await emulator.waitUntil(timeout: .seconds(60)) {
                    tokens.allSatisfy { emulator.getUpdatesCalls(of: $0).first?.outcome == .pending }
                }
                #expect(allWaiting, "every bot's poll reached the server: none queued behind another")
                for token in tokens { emulator.sendText("ping", to: token) }
                return try await group.reduce(0, +)
            }
            #expect(answered == 500)
            for client in clients { try await client.shutdown() }
        }
    }
}
