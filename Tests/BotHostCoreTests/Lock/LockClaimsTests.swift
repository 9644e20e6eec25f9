import Logging
import Testing

@testable import BotHostCore

/// The standby rules of ``LockClaims`` against real lock files: a second `FileTokenLock` on
/// the same directory plays the other host.
@Suite struct LockClaimsTests {
    /// The start-up race that left a killed host's bots unpolled: over its limit, the
    /// standby found the lock not yet taken, and the holder died before the standby's next
    /// try (every fifth recheck), so the lock was never seen held and never adopted.
    @Test func aBotOverTheLimitIsAdoptedWhenAHolderThatCameAfterItsFirstTryDies() async throws {
        try await withTemporaryDirectory { directory in
            let (full, bot) = try bots(in: directory)
            let claims = LockClaims(tokenLock: FileTokenLock(directory: directory), maxBots: 1)
            guard case .acquired = await claims.claim(full, onLocked: .wait) else {
                Issue.record("the first bot took no slot")
                return
            }
            var standby = LockClaims.Standby()
            let logger = Logger(label: "test")

            #expect(await claims.tryTakeOver(bot, standby: &standby, logger: logger) == nil, "not seen held: let go")
            let otherHost = FileTokenLock(directory: directory)
            let held = try #require(try await otherHost.tryAcquire(bot.lockID, owner: testOwner()).held)
            #expect(await claims.tryTakeOver(bot, standby: &standby, logger: logger) == nil)
            await held.release()

            var adopted: (any HeldTokenLock)?
            for _ in 0..<LockClaims.overLimitTryEvery where adopted == nil {
                adopted = await claims.tryTakeOver(bot, standby: &standby, logger: logger)
            }
            #expect(adopted != nil, "the dead holder's bot was left unpolled")
            await adopted?.release()
        }
    }

    @Test func aBotOverTheLimitThatNobodyHoldsIsLeftAlone() async throws {
        try await withTemporaryDirectory { directory in
            let (full, bot) = try bots(in: directory)
            let claims = LockClaims(tokenLock: FileTokenLock(directory: directory), maxBots: 1)
            guard case .acquired = await claims.claim(full, onLocked: .wait) else {
                Issue.record("the first bot took no slot")
                return
            }
            var standby = LockClaims.Standby()
            for _ in 0..<(3 * LockClaims.overLimitTryEvery) {
                #expect(await claims.tryTakeOver(bot, standby: &standby, logger: Logger(label: "test")) == nil)
            }
        }
    }

    private func bots(in directory: String) throws -> (BotConfiguration, BotConfiguration) {
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
        return (manifest.bots[0], manifest.bots[1])
    }
}
