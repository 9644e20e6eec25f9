import BotHostKit
import BotHostTesting
import Logging
import Synchronization
import Testing

@Suite struct ShutdownHooksTests {
    @Test func hooksRunLastRegisteredFirst() async throws {
        let logs = LogCapture()
        let hooks = ShutdownHooks(logger: logs.logger(label: "test"))
        let order = Order()
        for name in ["api-client", "scheduler", "rag-observer"] {
            try hooks.register(name) { order.append(name) }
        }
        #expect(hooks.pendingHookNames == ["rag-observer", "scheduler", "api-client"])
        let outcomes = await hooks.run()
        #expect(order.all == ["rag-observer", "scheduler", "api-client"])
        #expect(outcomes.map(\.result) == [.done, .done, .done])
        #expect(logs.lines.filter { $0.contains("hook done in") }.count == 3)
    }

    @Test func aFailingOrHungHookIsLoggedAndTheRestStillRun() async throws {
        let logs = LogCapture()
        let hooks = ShutdownHooks(defaultTimeout: .milliseconds(100), logger: logs.logger(label: "test"))
        let order = Order()
        struct Broken: Error, CustomStringConvertible { var description: String { "disk full" } }
        try hooks.register("first") { order.append("first") }
        try hooks.register("hung-ignoring-cancellation") {
            let never = Mutex<CheckedContinuation<Void, Never>?>(nil)
            await withCheckedContinuation { continuation in never.withLock { $0 = continuation } }
        }
        try hooks.register("failing") { throw Broken() }
        try hooks.register("own-timeout", timeout: .milliseconds(20)) { try await Task.sleep(for: .seconds(60)) }
        let outcomes = await hooks.run()
        #expect(outcomes.map(\.name) == ["own-timeout", "failing", "hung-ignoring-cancellation", "first"])
        #expect(outcomes.map(\.result) == [.timedOut, .failed("disk full"), .timedOut, .done])
        #expect(order.all == ["first"])
        #expect(logs.lines.contains { $0.contains("hook timed out after 20ms") && $0.contains("hook=own-timeout") })
        #expect(logs.lines.contains { $0.contains("hook failed") && $0.contains("disk full") && $0.contains("hook=failing") })
        #expect(
            logs.lines.contains { $0.contains("hook timed out after 100ms") && $0.contains("hook=hung-ignoring-cancellation") })
    }

    @Test func registeringAfterShutdownBeganIsRefused() async throws {
        let hooks = ShutdownHooks(logger: LogCapture().logger(label: "test"))
        let refused = Mutex<ShutdownHooksError?>(nil)
        try hooks.register("late-registrar") {
            do {
                try hooks.register("too-late") {}
            } catch {
                refused.withLock { $0 = error as? ShutdownHooksError }
            }
        }
        await hooks.run()
        #expect(refused.withLock { $0 } == .shutdownInProgress(hook: "too-late"))
        #expect(throws: ShutdownHooksError.shutdownInProgress(hook: "after")) { try hooks.register("after") {} }
        #expect(await hooks.run().isEmpty)
    }

    @Test func unregisteredHooksDoNotRun() async throws {
        let hooks = ShutdownHooks(logger: LogCapture().logger(label: "test"))
        let order = Order()
        try hooks.register("kept") { order.append("kept") }
        let handle = try hooks.register("removed") { order.append("removed") }
        handle.unregister()
        await hooks.run()
        #expect(order.all == ["kept"])
    }
}

@Suite struct SchedulerTests {
    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    @Test func repeatingAndOneShotJobsFollowTheClock() async throws {
        let clock = ManualClock()
        let scheduler = Scheduler(clock: clock, logger: LogCapture().logger(label: "test"))
        let hourly = Counter()
        let once = Counter()
        scheduler.every(.seconds(3600), name: "hourly") { hourly.increment() }
        scheduler.after(.seconds(10), name: "once") { once.increment() }
        await clock.waitForSleepers(2)
        clock.advance(by: .seconds(10))
        try await waitFor { once.count == 1 }
        #expect(hourly.count == 0)
        for expected in 1...3 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(3600))
            try await waitFor { hourly.count == expected }
        }
        #expect(scheduler.jobNames == ["hourly"])
        await scheduler.cancelAll()
        #expect(scheduler.jobNames.isEmpty)
        clock.advance(by: .seconds(7200))
        #expect(hourly.count == 3)
    }

    @Test func aFailingJobKeepsItsSchedule() async throws {
        let clock = ManualClock()
        let logs = LogCapture()
        let scheduler = Scheduler(clock: clock, logger: logs.logger(label: "test"))
        let runs = Counter()
        struct Oops: Error {}
        scheduler.every(.seconds(1), name: "flaky") {
            runs.increment()
            throw Oops()
        }
        for expected in 1...2 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            try await waitFor { runs.count == expected }
        }
        #expect(logs.lines.contains { $0.contains("scheduled job failed") && $0.contains("job=flaky") })
        await scheduler.cancelAll()
    }

    /// A job scheduled while ``Scheduler/cancelAll()`` runs is either refused or cancelled
    /// with the rest: none is left running after the scheduler has stopped. The two calls
    /// start together on two threads, `cancelAll()` a little later each time, so that it
    /// falls between a job's start and its bookkeeping in some of the rounds.
    @Test func noJobOutlivesCancelAll() async {
        final class StartingGun: Sendable {
            let fired = Atomic(false)
        }
        var leftRunning = 0
        for round in 0..<4000 {
            let scheduler = Scheduler(clock: ContinuousClock(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            let gun = StartingGun()
            async let scheduling: Void = {
                while !gun.fired.load(ordering: .acquiring) {}
                _ = scheduler.every(.seconds(3600), name: "late") {}
            }()
            gun.fired.store(true, ordering: .releasing)
            for _ in 0..<(round % 400) { _ = gun.fired.load(ordering: .relaxed) }
            await scheduler.cancelAll()
            await scheduling
            if !scheduler.jobNames.isEmpty {
                leftRunning += 1
                await scheduler.cancelAll()
            }
        }
        #expect(leftRunning == 0)
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<5000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }
}
