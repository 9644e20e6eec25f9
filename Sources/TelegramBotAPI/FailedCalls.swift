import Synchronization

/// The Bot API calls of a task that failed, so that whoever logs the task's error can
/// name the method it came from: a handler's `404 Not Found` alone does not say which of
/// its calls was refused.
package final class FailedCalls: Sendable {
    /// Set around a task (a handler) whose failed calls are wanted; `nil` elsewhere, where
    /// a failed call costs nothing extra.
    @TaskLocal package static var current: FailedCalls?

    /// The latest few: a handler that catches its calls' errors and goes on must not grow it.
    private static let kept = 8
    private let failures = Mutex<[(method: String, error: BotAPIError)]>([])

    package init() {}

    func record(_ error: BotAPIError, of method: String) {
        failures.withLock { failures in
            if failures.count == Self.kept { failures.removeFirst() }
            failures.append((method, error))
        }
    }

    /// The method of the latest failed call that threw `error`.
    package func method(of error: BotAPIError) -> String? {
        failures.withLock { failures in failures.last { $0.error == error }?.method }
    }
}
