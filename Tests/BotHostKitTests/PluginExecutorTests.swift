import BotHostKit
import Dispatch
import Testing

@Suite struct PluginExecutorTests {
    @Test func aJobQueuedBehindABlockedThreadGetsAThreadOfItsOwn() async {
        let executor = PluginExecutor(baseThreads: 1, maxThreads: 4, growthDelay: .milliseconds(10))
        let release = DispatchSemaphore(value: 0)
        // Both jobs are queued before the only thread takes the first, which then blocks it.
        let blocked = Task(executorPreference: executor) { release.wait() }
        let queued = Task(executorPreference: executor) {}
        let clock = ContinuousClock()
        let start = clock.now
        await queued.value
        let waited = start.duration(to: clock.now)
        #expect(executor.threadCount == 2)
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
}
