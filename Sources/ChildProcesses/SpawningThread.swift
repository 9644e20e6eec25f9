import Foundation
import Synchronization

/// The one thread that spawns every ``ChildProcess``.
///
/// The kernel sends a child its parent-death signal when the *thread* that spawned it
/// ends, not the process (checked on this machine). The threads of Swift's concurrency
/// pool end after a few idle seconds, so a child spawned from one of them would be killed
/// in the middle of its test. This thread never ends: its children get the signal exactly
/// when the process ends, however it ends.
final class SpawningThread: @unchecked Sendable {
    static let shared = SpawningThread()

    /// Guards `jobs`, and wakes the thread when one arrives.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [self] in
            while true { nextJob()() }
        }
        thread.name = "ChildProcess spawner"
        thread.start()
    }

    /// Runs `body` on this thread and returns its result to the calling thread, which
    /// waits meanwhile (a spawn takes about a millisecond).
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        condition.lock()
        jobs.append {
            result.withLock { $0 = body() }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return result.withLock { $0! }
    }

    private func nextJob() -> @Sendable () -> Void {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty { condition.wait() }
        return jobs.removeFirst()
    }
}
