import BotAPIEmulator
import BotHostKit
import Testing

@testable import BotHostCore

/// Lines an operator acts on: what failed, where, and what happens next, each said once.
@Suite struct LogLinesTests {
    @Test func aHandlerErrorNamesTheCallThatFailedAndTraceShowsEveryUpdateAndCall() async throws {
        let token = uniqueToken()
        try await withHost(
            bots: "  - { name: news, token: \"\(token.secretValue)\", plugin: recording }", tokens: [token],
            prepare: { emulator in
                emulator.injectFault(.serverError(status: 403), method: "sendMessage", count: 1, for: token)
                emulator.injectFault(.rateLimited(retryAfter: 1), method: "sendMessage", count: 1, for: token)
            }
        ) { fixture in
            let first = fixture.emulator.sendText("refused", to: token)
            #expect(await fixture.waitUntil { !fixture.logLines(containing: "handler failed").isEmpty })
            #expect(
                fixture.logLines(containing: "handler failed") == [
                    "error handler failed: sendMessage: 403 Internal Server Error bot=news update_id=\(first)"
                ])
            #expect(fixture.logLines(containing: "update received").first?.contains("update_id=\(first)") == true)

            fixture.emulator.sendText("limited", to: token)
            #expect(await fixture.waitUntil { fixture.emulator.sentMessages(by: token).map(\.text) == ["limited"] })
            #expect(
                fixture.logLines(containing: "retrying in").map { $0.replacing(#/ attempt=\S+/#, with: "") } == [
                    "warning sendMessage failed: 429 Too Many Requests: retry after 1; retrying in 1s bot=news method=sendMessage"
                ])
            // The failed update is not "handled"; the second one is, after its call answered.
            #expect(await fixture.waitUntil { fixture.logLines(containing: "trace update handled in").count == 1 })
            #expect(
                fixture.logLines(containing: "trace sendMessage answered").map { $0.prefix(31) } == [
                    "trace sendMessage answered 403 ", "trace sendMessage answered 429 ", "trace sendMessage answered 200 ",
                ])
        }
    }
}
