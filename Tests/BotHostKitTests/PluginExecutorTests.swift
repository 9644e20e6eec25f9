import BotHostKit
import Dispatch
import Testing

@Suite struct PluginExecutorTests {
    @Test func aJobQueuedBehindABlockedThreadGetsAThreadOfItsOwn() async {
        let executor = PluginExecutor(baseThreads: 1, maxThreads: 4, growthDelay: .milliseconds(10))
        let release = DispatchSemaphore(value: 0)
        // The first job blocks the only thread; the second waits for another.
        let blocked = Task(executorPreference: executor) { release.wait() }
        let queued = Task(executorPreference: executor) {}
        let clock = ContinuousClock()
        let start = clock.now
        await queued.value
        let waited = start.duration(to: clock.now)
        // A third may have started for it on a loaded machine, before the second ran.
        #expect(executor.threadCount >= 2)
        release.signal()
        await blocked.value
        print("a job behind a blocked thread waited \(waited)")
        #expect(waited < .seconds(5))
    }

    @Test func shortJobsDoNotAddThreads() async {
        let executor = PluginExecutor(baseThreads: 2, maxThreads: 64, growthDelay: .seconds(2))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2_000 {
                group.addTask(executorPreference: executor) { await Task.yield() }
            }
        }
        #expect(executor.threadCount == 2)
    }

    @Test func manyJobsBehindBlockedThreadsGetThreadsWithinAFewDelays() async {
        let executor = PluginExecutor(baseThreads: 2, maxThreads: 64, growthDelay: .milliseconds(10))
        let release = DispatchSemaphore(value: 0)
        let blocked = (0..<2).map { _ in Task(executorPreference: executor) { release.wait() } }
        let clock = ContinuousClock()
        let start = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask(executorPreference: executor) { await Task.yield() }
            }
        }
        let waited = start.duration(to: clock.now)
        for _ in blocked { release.signal() }
        for task in blocked { await task.value }
        print("20 jobs behind 2 blocked threads all ran after \(waited)")
        #expect(waited < .seconds(5))
    }
}
