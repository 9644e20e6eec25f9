import Logging
import Testing

@testable import BotHostCore

/// The standby rules of ``LockClaims`` against real lock files: a second `FileTokenLock` on
/// the same directory plays the other host.
@Suite struct LockClaimsTests {
    /// The start-up race that left a killed host's bots unpolled: over its limit, the
    /// standby found the lock not yet taken, and the holder died before the standby's next
    /// try (every fifth recheck), so the lock was never seen held and never adopted. Now the
    /// standby looks at every recheck, and adopts after five free looks in a row, so that a
    /// host under its limit has the first chance.
    @Test func aBotOverTheLimitIsAdoptedWhenAHolderThatCameAfterItsFirstLookDies() async throws {
        try await withOverLimitStandby { claims, bot, directory in
            var standby = LockClaims.Standby()
            let logger = Logger(label: "test")
            #expect(await claims.tryTakeOver(bot, standby: &standby, logger: logger) == nil, "never seen held: let be")

            let otherHost = FileTokenLock(directory: directory)
            let held = try #require(try await otherHost.tryAcquire(bot.lockID, owner: testOwner()).held)
            #expect(await claims.tryTakeOver(bot, standby: &standby, logger: logger) == nil)
            await held.release()

            for _ in 1..<LockClaims.overLimitFreeLooks {
                #expect(await claims.tryTakeOver(bot, standby: &standby, logger: logger) == nil, "adopted too soon")
            }
            let adopted = await claims.tryTakeOver(bot, standby: &standby, logger: logger)
            #expect(adopted != nil, "the dead holder's bot was left unpolled")
            await adopted?.release()
        }
    }

    @Test func aBotOverTheLimitThatNobodyHoldsIsLeftAlone() async throws {
        try await withOverLimitStandby { claims, bot, directory in
            var standby = LockClaims.Standby()
            for _ in 0..<(3 * LockClaims.overLimitFreeLooks) {
                #expect(await claims.tryTakeOver(bot, standby: &standby, logger: Logger(label: "test")) == nil)
            }
            let otherHost = FileTokenLock(directory: directory)
            let held = try #require(try await otherHost.tryAcquire(bot.lockID, owner: testOwner()).held, "a look took the lock")
            await held.release()
        }
    }

    /// A host with `max_bots: 1` whose one slot is taken, and the bot that stands by over it.
    private func withOverLimitStandby(
        _ body: (LockClaims, BotConfiguration, String) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let manifest = try Manifest.parse(
                yaml: """
                    version: 1
                    lock: { backend: file, dir: \(directory) }
                    state_dir: \(directory)/state
                    bots:
                      - { name: first, token: "100001:first-secret", plugin: echo }
                      - { name: second, token: "100002:second-secret", plugin: echo }
                    """,
                file: "test.yaml", baseDirectory: ".", environment: [:], plugins: ["echo"])
            let claims = LockClaims(tokenLock: FileTokenLock(directory: directory), maxBots: 1)
            guard case .acquired(let first) = await claims.claim(manifest.bots[0], onLocked: .wait) else {
                Issue.record("the first bot took no slot")
                return
            }
            do {
                try await body(claims, manifest.bots[1], directory)
                await claims.release(first)
            } catch {
                await claims.release(first)
                throw error
            }
        }
    }
}
