import BotAPIEmulator
import Logging
import TelegramBotAPI
import TestSupport
import Testing

/// Every error the client can produce, rendered every way an operator could see it,
/// must be free of the token's secret.
@Suite struct SecretLeakTests {
    @Test func noErrorRenderingContainsTheSecret() async throws {
        var errors: [any Error] = []
        let faults: [EmulatorFault] = [
            .rateLimited(retryAfter: 3), .serverError(status: 500), .serverError(status: 503), .dropConnection, .malformedJSON,
        ]
        try await withClient(configuration: {
            $0.clock = ManualClock(advancesOnSleep: true); $0.sendRetries = 0
        }) { emulator, client in
            for fault in faults {
                emulator.injectFault(fault, method: "getUpdates", for: testToken)
                errors.append(await failure { _ = try await client.getUpdates(offset: nil) })
                emulator.injectFault(fault, method: "sendMessage", count: 2, for: testToken)
                errors.append(await failure { _ = try await client.sendMessage(chatID: 1, text: "x") })
            }
            emulator.setWebhook("https://example.com", for: testToken)
            errors.append(await failure { _ = try await client.getUpdates(offset: nil) })
            emulator.setWebhook("", for: testToken)
            errors.append(await failure { _ = try await client.sendMessage(chatID: 1, text: "") })
            errors.append(await failure { _ = try await client.call("noSuchMethod", parameters: ["a": 1], as: Bool.self) })
            let unknown = BotAPIClient(token: try BotToken("777:\(testSecret)"), configuration: .init(baseURL: emulator.baseURL))
            errors.append(await failure { _ = try await unknown.getMe() })
            try await unknown.shutdown()
            let cancelled = Task { try await client.getUpdates(offset: nil, timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(50))
            cancelled.cancel()
            errors.append(await failure { _ = try await cancelled.value })
        }
        for baseURL in [
            "http://127.0.0.1:1", "http://no-such-host.invalid:80", "ht!tp://bad url", "http://127.0.0.1:1/\(testSecret)",
        ] {
            let connections = BotAPIConnections(connectTimeout: .seconds(2), maxConnections: 1)
            let client = BotAPIClient(
                token: testToken, configuration: .init(baseURL: baseURL, sendRetries: 0), connections: connections)
            errors.append(await failure { _ = try await client.getUpdates(offset: nil) })
            try await connections.shutdown()
        }

        let logs = LogCapture()
        let logger = logs.logger(label: "leak-test")
        for error in errors {
            logger.error("call failed", metadata: ["error": "\(error)"])
            logger.error("\(String(reflecting: error))")
        }
        let renderings = errors.flatMap { ["\($0)", String(describing: $0), String(reflecting: $0)] } + logs.lines
        #expect(errors.count == 19)
        #expect(!errors.contains { $0 is Unexpected })
        for text in renderings {
            #expect(!text.contains(testSecret), "\(text)")
        }
    }

    private func failure(_ body: () async throws -> Void) async -> any Error {
        do {
            try await body()
            return Unexpected()
        } catch {
            return error
        }
    }

    struct Unexpected: Error {}
}
