import BotAPIEmulator
import BotHostKit
import BotHostTesting
import TelegramBotAPI
import Testing

@testable import BotHostCore

@Suite struct ReloadTests {
    @Test func addsRemovesAndRestartsBotsWhileTheOthersPollOn() async throws {
        let (kept, changed, gone, added) = (uniqueToken(), uniqueToken(), uniqueToken(), uniqueToken())
        try await withHost(
            bots: [bot("kept", kept), bot("changed", changed), bot("gone", gone)].joined(separator: "\n"),
            tokens: [kept, changed, gone, added]
        ) { fixture in
            let emulator = fixture.emulator
            #expect(
                await fixture.waitUntil {
                    [kept, changed, gone].allSatisfy { emulator.getUpdatesCalls(of: $0).last?.outcome == .pending }
                })
            emulator.sendText("bye", to: gone)
            #expect(
                await fixture.waitUntil {
                    emulator.sentMessages(by: gone).count == 1 && emulator.getUpdatesCalls(of: gone).last?.outcome == .pending
                })
            let keptCalls = emulator.getUpdatesCalls(of: kept).count

            let next = try fixture.manifest(
                bots: [bot("kept", kept), bot("changed", changed, extra: "handler_timeout: 31s"), bot("added", added)]
                    .joined(separator: "\n"))
            await fixture.host.reload(next)

            #expect(
                await fixture.waitUntil { fixture.state(of: "added") == .polling && fixture.state(of: "changed") == .polling })
            #expect(fixture.state(of: "gone") == nil)
            #expect(emulator.callCount("getMe", of: changed) == 2, "a changed bot restarts")
            #expect(emulator.callCount("getMe", of: kept) == 1, "an unchanged bot is left alone")
            #expect(emulator.getUpdatesCalls(of: kept).count == keptCalls, "its long poll was not interrupted")
            #expect(emulator.getUpdatesCalls(of: kept).last?.outcome == .pending)
            #expect(emulator.pendingUpdateIDs(of: gone).isEmpty, "a removed bot confirms its offset")
            let locks = try FileTokenLock.statuses(directory: fixture.lockDirectory)
            #expect(locks.first { $0.id == LockID(botID: gone.botID) }?.state == .free)
            #expect(fixture.logLines(containing: "reload: 1 added, 1 removed, 1 restarted, 1 unchanged").count == 1)

            emulator.sendText("still here", to: kept)
            #expect(await fixture.waitUntil { emulator.sentMessages(by: kept).map(\.text) == ["still here"] })
            #expect(await fixture.stop() == .success)
        }
    }

    /// A bot that failed (a revoked token) starts afresh when a reload fixes it: listed
    /// once, ready again, and a clean stop exits 0. (Another bot keeps the host running: a
    /// host whose every bot failed has ended.)
    @Test func aReloadThatFixesAFailedBotStartsItAfresh() async throws {
        let (wrong, right, keeper) = (uniqueToken(), uniqueToken(), uniqueToken())
        func bots(_ token: BotToken) -> String {
            """
              - { name: fixed, token: "\(token.secretValue)", plugin: recording }
              - { name: keeper, token: "\(keeper.secretValue)", plugin: recording }
            """
        }
        try await withHost(bots: bots(wrong), tokens: [right, keeper]) { fixture in
            #expect(await fixture.waitUntil { fixture.state(of: "fixed") == .failed && fixture.state(of: "keeper") == .polling })
            await fixture.host.reload(try fixture.manifest(bots: bots(right)))
            #expect(await fixture.waitUntil { fixture.state(of: "fixed") == .polling })
            #expect(fixture.host.report.statuses().map(\.name).sorted() == ["fixed", "keeper"])
            #expect(fixture.host.report.readiness().ready)
            #expect(fixture.logLines(containing: "reload: 0 added, 0 removed, 1 restarted, 1 unchanged").count == 1)
            #expect(await fixture.stop() == .success)
        }
    }
}
