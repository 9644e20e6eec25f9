import Synchronization

/// Decides which of a run of failed polls to log, so that every failure is visible at
/// once and a repeated one does not flood the log.
///
/// The first failure is logged at once, and so is every failure that differs from the one
/// before; the same failure again is logged on its 2nd, 4th, 8th, ... time in a row (the
/// log line's attempt number tells how many there were).
struct RepeatedFailures: Sendable {
    private var last: String?
    private var repeats = 0

    /// Counts `failure`; whether to log it now.
    mutating func shouldLog(_ failure: String) -> Bool {
        if failure == last {
            repeats += 1
        } else {
            last = failure
            repeats = 1
        }
        return repeats & (repeats - 1) == 0
    }

    /// Whether a failure was counted since the last reset.
    var hasFailed: Bool { repeats > 0 }

    /// A poll succeeded: the next failure is logged at once.
    mutating func reset() {
        last = nil
        repeats = 0
    }
}

/// ``RepeatedFailures`` for failures that several tasks report (a bot's workers).
final class SharedRepeatedFailures: Sendable {
    private let failures = Mutex(RepeatedFailures())

    func shouldLog(_ failure: String) -> Bool {
        failures.withLock { $0.shouldLog(failure) }
    }
}
