import DequeModule
import Foundation

/// The threads that plugin code runs on: handlers, `init(context:)`, shutdown hooks and
/// scheduled jobs, never on the threads that do the host's I/O.
///
/// `bothost` runs Swift Concurrency's jobs on NIO's event loops (one per core), where
/// every HTTP call of every bot does its I/O. A plugin that blocks its thread (a
/// synchronous file read, a CPU-heavy handler, `sleep`) would stop the polls of every bot
/// on that loop. On these threads it blocks only itself: the others, and the loops, go on.
/// Blocking code still holds one of ``threadCount`` threads while it blocks, so a plugin
/// that blocks on every update slows other plugins once they are all taken.
package final class PluginExecutor: TaskExecutor, @unchecked Sendable {
    /// One for the process.
    package static let shared = PluginExecutor(threadCount: max(8, 4 * ProcessInfo.processInfo.activeProcessorCount))

    /// How many threads run plugin code at once.
    package let threadCount: Int
    /// Guards `jobs`, and wakes a thread when one arrives.
    private let condition = NSCondition()
    private var jobs = Deque<UnownedJob>()

    private init(threadCount: Int) {
        self.threadCount = threadCount
        for index in 1...threadCount {
            let thread = Thread { [self] in
                while true { nextJob().runSynchronously(on: asUnownedTaskExecutor()) }
            }
            thread.name = "plugin \(index)"
            thread.start()
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func nextJob() -> UnownedJob {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty { condition.wait() }
        return jobs.removeFirst()
    }
}
