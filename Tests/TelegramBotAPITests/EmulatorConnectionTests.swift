import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

/// The emulator keeps connections open as Telegram does, so that a host's cost per call
/// in tests and benchmarks is not inflated by reconnecting after every long poll.
@Suite struct EmulatorConnectionTests {
    @Test func aLongPollThatWaitedLeavesItsConnectionOpen() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let connection = try RawConnection(port: try #require(emulator.port))
            defer { connection.close() }
            let path = "/bot\(testToken.secretValue)"
            let poll = try await connection.call("POST \(path)/getUpdates", json: #"{"timeout":1}"#)
            #expect(poll.status == 200)
            #expect(poll.head.lowercased().contains("connection: close") == false, "\(poll.head)")
            #expect(emulator.getUpdatesCalls(of: testToken).first?.outcome == .updates([]), "it waited its second out")
            let next = try await connection.call("POST \(path)/getMe", json: "{}")
            #expect(next.status == 200, "the next call went over the same connection")
        }
    }

    @Test func aPollOnAKeptConnectionIsAbandonedWhenItsClientGoesAway() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let connection = try RawConnection(port: try #require(emulator.port))
            let path = "/bot\(testToken.secretValue)"
            _ = try await connection.call("POST \(path)/getUpdates", json: #"{"timeout":1}"#)
            try connection.send("POST \(path)/getUpdates", json: #"{"timeout":30}"#)
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).last?.outcome == .pending })
            connection.close()
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).last?.outcome == .abandoned })
            #expect(emulator.getUpdatesCalls(of: testToken).map(\.outcome) == [.updates([]), .abandoned])
        }
    }

    /// A second poll waits up to a second for an earlier one to end; a client that went
    /// away meanwhile has its poll abandoned once it would wait.
    @Test func aPollWhoseClientLeftBeforeItWaitedIsAbandoned() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let first = try RawConnection(port: try #require(emulator.port))
            defer { first.close() }
            let path = "/bot\(testToken.secretValue)"
            try first.send("POST \(path)/getUpdates", json: #"{"timeout":30}"#)
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            let second = try RawConnection(port: try #require(emulator.port))
            try second.send("POST \(path)/getUpdates", json: #"{"timeout":30}"#)
            second.close()
            #expect(
                await emulator.waitUntil {
                    emulator.getUpdatesCalls(of: testToken).map(\.outcome) == [.terminatedByOtherPoll, .abandoned]
                })
        }
    }

    @Test func aPollWhoseClientWentAwayIsAbandoned() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let connection = try RawConnection(port: try #require(emulator.port))
            try connection.send("POST /bot\(testToken.secretValue)/getUpdates", json: #"{"timeout":30}"#)
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            connection.close()
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .abandoned })
        }
    }
}
