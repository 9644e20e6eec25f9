import DequeModule
import Dispatch
import Foundation
import TelegramBotAPI

/// The threads that plugin code runs on: handlers, `init(context:)`, shutdown hooks and
/// scheduled jobs, never on the threads that do the host's I/O.
///
/// `bothost` runs Swift Concurrency's jobs on NIO's event loops, where every HTTP call of
/// every bot does its I/O. A plugin that blocks its thread (a synchronous file read, a
/// CPU-heavy handler, `sleep`) would stop the polls of every bot on that loop. Here it
/// blocks only the thread it holds: when queued jobs have waited ``growthDelay`` while jobs
/// that ran that long held threads, a thread starts for each of those (up to
/// ``maxThreads``), so one bot's blocked handlers hold up another bot's by one to two times
/// that delay (the monitor looks once per delay). Threads beyond ``baseThreads`` end after
/// ``idleLifetime`` without work.
///
/// Threads are not added the moment every one is busy: jobs of a busy host (a handler's
/// start, its resumption after each Bot API call) mostly find a thread about to finish,
/// and a thread per moment of contention made dozens of threads on two cores, each woken
/// for one job (a context switch per job).
package final class PluginExecutor: TaskExecutor, @unchecked Sendable {
    /// One for the process.
    package static let shared = PluginExecutor(
        baseThreads: max(4, ProcessInfo.processInfo.activeProcessorCount), maxThreads: 512,
        growthDelay: .milliseconds(10))

    /// Threads kept while idle.
    package let baseThreads: Int
    /// The most threads at once: past it, jobs wait for a thread.
    package let maxThreads: Int
    /// How long the oldest queued job waits, every thread busy, before another thread starts.
    package let growthDelay: Duration
    /// How long a thread beyond ``baseThreads`` waits for work before it ends, in seconds.
    private let idleLifetime: TimeInterval = 10
    /// Guards the fields below, and wakes an idle thread when a job arrives.
    private let condition = NSCondition()
    private var jobs = Deque<(job: UnownedJob, queuedAt: DispatchTime)>()
    private var threads = 0
    private var idle = 0
    /// When each busy thread began its current job, by thread.
    private var busySince: [Int: DispatchTime] = [:]
    private var nextThreadID = 0
    /// Whether a job found every thread busy since the growth monitor last looked.
    private var sawEveryThreadBusy = false
    /// Whether the growth monitor waits for ``monitorWakeUp`` rather than looking again.
    private var monitorParked = true
    private let monitorWakeUp = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - baseThreads: threads started at once and kept while idle.
    ///   - maxThreads: the most threads at once.
    ///   - growthDelay: how long a job waits, every thread busy, before another thread starts.
    package init(baseThreads: Int, maxThreads: Int, growthDelay: Duration) {
        self.baseThreads = baseThreads
        self.maxThreads = max(baseThreads, maxThreads)
        self.growthDelay = growthDelay
        condition.lock()
        for _ in 0..<baseThreads { startThread() }
        condition.unlock()
        let monitor = Thread { [self] in monitorGrowth() }
        monitor.name = "plugin growth"
        monitor.start()
    }

    /// The threads running now, busy or idle.
    package var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append((job, .now()))
        if idle > 0 {
            condition.signal()
        } else {
            noteEveryThreadBusy()
        }
        condition.unlock()
    }

    /// Wakes the growth monitor if it is parked; called with `condition` locked when a
    /// job waits with every thread busy.
    private func noteEveryThreadBusy() {
        sawEveryThreadBusy = true
        guard monitorParked, threads < maxThreads else { return }
        monitorParked = false
        monitorWakeUp.signal()
    }

    /// Replaces the threads held by jobs that have run for ``growthDelay`` (blocked or
    /// spinning) while queued jobs have waited as long: it keeps ``baseThreads`` threads
    /// that are not held so, for the jobs that wait. A host merely short of CPU, whose jobs
    /// are short, gets no threads. It looks every ``growthDelay`` while jobs find every
    /// thread busy, and parks (no wake-ups) once a look finds no job waiting for a thread and
    /// none that did since the last look.
    private func monitorGrowth() {
        while true {
            condition.lock()
            if idle == 0 {
                let overdue = DispatchTime.now() - growthDelay.seconds
                let waited = jobs.prefix { $0.queuedAt <= overdue }.count
                let held = busySince.values.filter { $0 <= overdue }.count
                let free = threads - held
                for _ in 0..<max(0, min(waited, baseThreads - free, maxThreads - threads)) { startThread() }
            }
            let park = !sawEveryThreadBusy && (jobs.isEmpty || idle > 0)
            sawEveryThreadBusy = false
            monitorParked = park
            condition.unlock()
            if park {
                monitorWakeUp.wait()
            } else {
                Thread.sleep(forTimeInterval: growthDelay.seconds)
            }
        }
    }

    /// Starts a thread; called with `condition` locked.
    private func startThread() {
        threads += 1
        nextThreadID += 1
        let id = nextThreadID
        let thread = Thread { [self] in
            while let job = nextJob(for: id) { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
        thread.name = "plugin \(threads)"
        thread.start()
    }

    /// The next job of thread `id`; `nil` ends a thread beyond ``baseThreads`` that waited
    /// in vain.
    private func nextJob(for id: Int) -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        busySince[id] = nil
        while jobs.isEmpty {
            idle += 1
            let woken = condition.wait(until: Date(timeIntervalSinceNow: idleLifetime))
            idle -= 1
            if !woken && jobs.isEmpty && threads > baseThreads {
                threads -= 1
                return nil
            }
        }
        let next = jobs.removeFirst().job
        busySince[id] = .now()
        // Jobs queued behind this one may have counted on a thread that was idle then.
        if !jobs.isEmpty && idle == 0 { noteEveryThreadBusy() }
        return next
    }
}
