import BotAPIEmulator
import TelegramBotAPI
import Testing

/// The emulator keeps the real Bot API server's queue rules (tdlib/telegram-bot-api), so
/// that what clients meet in tests is what they meet in production.
@Suite struct EmulatorQueueRulesTests {
    @Test func aBotsFirstUpdateIDIsRandomFromTwoMillionOn() async throws {
        try await withClient { emulator, _ in
            let first = emulator.sendText("one", to: testToken)
            #expect(first >= 2_000_001)
            #expect(emulator.sendText("two", to: testToken) == first + 1)
        }
    }

    @Test func anOffsetFarPastTheTailIsIgnoredAndConfirmsNothing() async throws {
        try await withClient { emulator, client in
            let first = emulator.sendText("one", to: testToken)
            let updates = try await client.getUpdates(offset: first + 50, timeout: .zero)
            #expect(updates.map(\.updateID) == [first])
            #expect(emulator.pendingUpdateIDs(of: testToken) == [first])
            #expect(try await client.getUpdates(offset: first + 1, timeout: .zero).isEmpty)
            #expect(emulator.pendingUpdateIDs(of: testToken).isEmpty)
        }
    }

    @Test func theSameOffsetAgainSoonGetsOneUpdate() async throws {
        try await withClient { emulator, client in
            let first = emulator.sendText("one", to: testToken)
            emulator.sendText("two", to: testToken)
            emulator.sendText("three", to: testToken)
            // Two polls 0.5 s apart or more are no repeat: on a loaded machine, try again
            // (for up to two minutes: a test run starts every suite at once).
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                let sent = ContinuousClock.now
                let all = try await client.getUpdates(offset: first, timeout: .zero)
                let again = try await client.getUpdates(offset: first, timeout: .zero)
                guard ContinuousClock.now - sent < .milliseconds(400) else {
                    try await Task.sleep(for: .milliseconds(500))
                    continue
                }
                #expect(all.count == 3)
                #expect(again.count == 1)
                return
            }
            Issue.record("no two polls came within 0.4 s of each other in two minutes")
        }
    }

    /// A `timeout` of 0 with the offset just used is raised to 3 s: the poll waits, and an
    /// update ends it.
    @Test func theSameOffsetAgainSoonWaitsAtLeastThreeSeconds() async throws {
        try await withClient { emulator, client in
            let first = emulator.sendText("one", to: testToken)
            _ = try await client.getUpdates(offset: first + 1, timeout: .zero)
            async let repeated = client.getUpdates(offset: first + 1, timeout: .zero)
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).last?.outcome == .pending })
            let second = emulator.sendText("two", to: testToken)
            #expect(try await repeated.map(\.updateID) == [second])
        }
    }

    @Test func setWebhookMoreThanOnceASecondIsRateLimited() async throws {
        try await withClient(configuration: { $0.sendRetries = 0 }) { _, client in
            // Two calls 0.9 s apart or more may both pass: on a loaded machine, try again
            // (for up to two minutes: a test run starts every suite at once).
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1100))
                let sent = ContinuousClock.now
                try await client.setWebhook(url: "https://example.com/a")
                let second: Result<Bool, any Error>
                do {
                    second = .success(
                        try await client.call("setWebhook", parameters: ["url": "https://example.com/b"], as: Bool.self))
                } catch {
                    second = .failure(error)
                }
                guard ContinuousClock.now - sent < .milliseconds(900) else { continue }
                guard case .failure(BotAPIError.rateLimited(let retryAfter, _)) = second else {
                    Issue.record("a second setWebhook within 0.9 s was answered \(second)")
                    return
                }
                #expect(retryAfter == .seconds(1))
                return
            }
            Issue.record("no two setWebhook calls came within 0.9 s of each other in two minutes")
        }
    }

    /// After a restart of the id sequence the client's offset lies far past the queue, so
    /// the new, lower ids still reach it.
    @Test func aRestartedSequenceIsDeliveredDespiteAHigherOffset() async throws {
        try await withClient { emulator, client in
            let old = emulator.sendText("before", to: testToken)
            _ = try await client.getUpdates(offset: old + 1, timeout: .zero)
            emulator.restartUpdateSequence(for: testToken, at: 3000)
            emulator.sendText("after", to: testToken)
            let updates = try await client.getUpdates(offset: old + 1, timeout: .zero)
            #expect(updates.map(\.updateID) == [3000])
        }
    }
}
