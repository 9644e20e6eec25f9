import Synchronization
import Testing

@testable import BotHostCore

/// The host-wide gate for updates that were running when the process died: one at a time,
/// the fewest tried first, and only once the process's other bots have caught up.
@Suite struct SuspectGateTests {
    /// What the suspects did, in order.
    final class Runs: Sendable {
        private let names = Mutex<[String]>([])
        var order: [String] { names.withLock { $0 } }

        func record(_ name: String) { names.withLock { $0.append(name) } }

        /// Starts a suspect of `bot`, recorded as `name` when it runs.
        func start(
            _ name: String, of bot: String = "bot0", attempts: Int, triedAt: Double? = nil, at gate: SuspectGate
        ) -> Task<Void, Never> {
            Task { await gate.run(of: bot, order: SuspectOrder(attempts: attempts, triedAt: triedAt)) { self.record(name) } }
        }
    }

    /// Waits (a second at most) until `count` suspects wait at `gate`.
    private func waiting(_ count: Int, at gate: SuspectGate) async -> Bool {
        for _ in 0..<1000 {
            if gate.waitingCount == count { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }

    @Test func suspectsWaitUntilEveryBotLaunchedWithTheProcessCaughtUp() async {
        let gate = SuspectGate(catchUpLimit: .seconds(60))
        gate.catchingUp("bot1")
        gate.catchingUp("bot2")
        let runs = Runs()
        let suspect = runs.start("poison", attempts: 1, at: gate)
        gate.caughtUp("bot1")
        try? await Task.sleep(for: .milliseconds(50))
        #expect(runs.order.isEmpty, "bot2 has not caught up")
        gate.caughtUp("bot2")
        await suspect.value
        #expect(runs.order == ["poison"])
    }

    @Test func theFewestTriedGoesFirst() async {
        let gate = SuspectGate(catchUpLimit: .seconds(60))
        gate.catchingUp("bot1")
        let runs = Runs()
        let poison = runs.start("poison", of: "bot0", attempts: 3, at: gate)
        #expect(await waiting(1, at: gate))
        let bystander = runs.start("bystander", of: "bot2", attempts: 1, at: gate)
        #expect(await waiting(2, at: gate))
        gate.caughtUp("bot1")
        await poison.value
        await bystander.value
        #expect(runs.order == ["bystander", "poison"])
    }

    /// Of suspects tried as often, the one whose try began last, most likely the one that
    /// killed the process, goes last.
    @Test func ofTheEquallyTriedTheLastBegunGoesLast() async {
        let gate = SuspectGate(catchUpLimit: .seconds(60))
        gate.catchingUp("bot1")
        let runs = Runs()
        let poison = runs.start("poison", of: "bot0", attempts: 1, triedAt: 1_000.002, at: gate)
        #expect(await waiting(1, at: gate))
        let bystander = runs.start("bystander", of: "bot2", attempts: 1, triedAt: 1_000.001, at: gate)
        #expect(await waiting(2, at: gate))
        gate.caughtUp("bot1")
        await poison.value
        await bystander.value
        #expect(runs.order == ["bystander", "poison"])
    }

    /// A bot whose suspect waits cannot catch up meanwhile; once its suspect has run, what
    /// queued behind it is handled before the next suspect.
    @Test func aBotWithASuspectCatchesUpAfterIt() async {
        let gate = SuspectGate(catchUpLimit: .seconds(60))
        gate.catchingUp("bot0")
        gate.catchingUp("bystander")
        let runs = Runs()
        let poison = runs.start("poison", of: "bot0", attempts: 2, at: gate)
        #expect(await waiting(1, at: gate))
        let inFlight = runs.start("in flight", of: "bystander", attempts: 1, at: gate)
        await inFlight.value
        try? await Task.sleep(for: .milliseconds(50))
        #expect(runs.order == ["in flight"], "the bystander has not handled its backlog yet")
        gate.caughtUp("bystander")
        await poison.value
        #expect(runs.order == ["in flight", "poison"])
    }

    @Test func aBotThatNeverCatchesUpHoldsSuspectsBackForTheLimitOnly() async {
        let gate = SuspectGate(catchUpLimit: .milliseconds(100))
        gate.catchingUp("failing")
        let runs = Runs()
        let started = ContinuousClock.now
        await runs.start("poison", attempts: 1, at: gate).value
        #expect(runs.order == ["poison"])
        #expect(ContinuousClock.now - started >= .milliseconds(100))
    }

    @Test func botsStartedAfterTheCatchUpAreNotWaitedFor() async {
        let gate = SuspectGate(catchUpLimit: .seconds(60))
        gate.catchingUp("bot1")
        gate.caughtUp("bot1")
        gate.catchingUp("reloaded")
        let runs = Runs()
        await runs.start("poison", attempts: 1, at: gate).value
        #expect(runs.order == ["poison"])
    }

    @Test func oneSuspectAtATime() async {
        let gate = SuspectGate()
        let runs = Runs()
        await withTaskGroup(of: Void.self) { group in
            for attempts in 1...8 {
                group.addTask {
                    await gate.run(of: "bot\(attempts)", order: SuspectOrder(attempts: attempts % 3, triedAt: nil)) {
                        runs.record("start")
                        try? await Task.sleep(for: .milliseconds(5))
                        runs.record("end")
                    }
                }
            }
        }
        #expect(runs.order == Array(repeating: ["start", "end"], count: 8).flatMap { $0 })
    }
}
