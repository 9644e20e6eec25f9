import Foundation
import Synchronization
import Testing

@testable import BotHostCore

/// A worker's locks are the supervisor's: assigned, and lost when the supervisor says so.
@Suite struct DelegatedTokenLockTests {
    let owner = LockOwner(pid: getpid(), bot: "worker", hostname: "host-1", startedAt: Date())
    let one = LockID(botID: "1")
    let two = LockID(botID: "2")

    @Test func aLockIsTakenWhenAssignedAndOnlyThen() async throws {
        let locks = DelegatedTokenLock()
        #expect(try await locks.tryAcquire(one, owner: owner).held == nil)
        locks.assign([one])
        #expect(try await locks.tryAcquire(one, owner: owner).held?.isDelegated == true)
    }

    @Test func aLockTheSupervisorLostIsLostHereAndNoOtherIs() async throws {
        let locks = DelegatedTokenLock()
        locks.assign([one, two])
        let losses = Mutex<[LockID: [LockLossReason]]>([:])
        for id in [one, two] {
            let held = try #require(try await locks.tryAcquire(id, owner: owner).held)
            _ = held.onLoss { reason in losses.withLock { $0[id, default: []].append(reason) } }
        }
        locks.assign([two])
        locks.lose([one])
        locks.lose([one])
        #expect(losses.withLock { $0 } == [one: [.takenAway]], "told once, and only for the lock lost")
    }

    @Test func aWatchSetUpAfterTheLossIsToldAtOnce() async throws {
        let locks = DelegatedTokenLock()
        locks.assign([one])
        let held = try #require(try await locks.tryAcquire(one, owner: owner).held)
        locks.lose([one])
        let told = Mutex<LockLossReason?>(nil)
        _ = held.onLoss { reason in told.withLock { $0 = reason } }
        #expect(told.withLock { $0 } == .takenAway)
    }

    @Test func aLockAssignedAgainAfterItsLossIsHeldAfresh() async throws {
        let locks = DelegatedTokenLock()
        locks.assign([one])
        locks.lose([one])
        locks.assign([one])
        let held = try #require(try await locks.tryAcquire(one, owner: owner).held)
        let told = Mutex(false)
        _ = held.onLoss { _ in told.withLock { $0 = true } }
        #expect(!told.withLock { $0 })
    }

    @Test func anEndedWatchIsNotTold() async throws {
        let locks = DelegatedTokenLock()
        locks.assign([one])
        let held = try #require(try await locks.tryAcquire(one, owner: owner).held)
        let told = Mutex(false)
        held.onLoss { _ in told.withLock { $0 = true } }.cancel()
        locks.lose([one])
        #expect(!told.withLock { $0 })
    }
}
