import DequeModule
import Foundation

/// The threads that plugin code runs on: handlers, `init(context:)`, shutdown hooks and
/// scheduled jobs, never on the threads that do the host's I/O.
///
/// `bothost` runs Swift Concurrency's jobs on NIO's event loops, where every HTTP call of
/// every bot does its I/O. A plugin that blocks its thread (a synchronous file read, a
/// CPU-heavy handler, `sleep`) would stop the polls of every bot on that loop. Here it
/// blocks only the thread it holds: a job that finds every thread busy gets a new one (up
/// to ``maxThreads``), so one bot's blocked handlers do not hold up another bot's, and
/// threads beyond ``baseThreads`` end after ``idleLifetime`` without work.
package final class PluginExecutor: TaskExecutor, @unchecked Sendable {
    /// One for the process.
    package static let shared = PluginExecutor(
        baseThreads: max(4, ProcessInfo.processInfo.activeProcessorCount), maxThreads: 512)

    /// Threads kept while idle.
    package let baseThreads: Int
    /// The most threads at once: past it, jobs wait for a thread.
    package let maxThreads: Int
    /// How long a thread beyond ``baseThreads`` waits for work before it ends.
    private let idleLifetime: TimeInterval = 10
    /// Guards the fields below, and wakes an idle thread when a job arrives.
    private let condition = NSCondition()
    private var jobs = Deque<UnownedJob>()
    private var threads = 0
    private var idle = 0

    private init(baseThreads: Int, maxThreads: Int) {
        self.baseThreads = baseThreads
        self.maxThreads = maxThreads
        condition.lock()
        for _ in 0..<baseThreads { startThread() }
        condition.unlock()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        if idle == 0 && threads < maxThreads {
            startThread()
        } else {
            condition.signal()
        }
        condition.unlock()
    }

    /// Starts a thread; called with `condition` locked.
    private func startThread() {
        threads += 1
        let thread = Thread { [self] in
            while let job = nextJob() { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
        thread.name = "plugin \(threads)"
        thread.start()
    }

    /// The next job; `nil` ends a thread beyond ``baseThreads`` that waited in vain.
    private func nextJob() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            idle += 1
            let woken = condition.wait(until: Date(timeIntervalSinceNow: idleLifetime))
            idle -= 1
            if !woken && jobs.isEmpty && threads > baseThreads {
                threads -= 1
                return nil
            }
        }
        return jobs.removeFirst()
    }
}
