/// A clock read as the time since a start, which token buckets count in: any
/// `Clock<Duration>` (a manual one in tests) without its own instant type.
package struct Timeline: Sendable {
    /// The time since the start.
    package let now: @Sendable () -> Duration
    /// Sleeps until that time since the start.
    package let sleep: @Sendable (Duration) async throws -> Void

    /// Starts now.
    package init<C: Clock<Duration>>(_ clock: C) {
        let start = clock.now
        now = { start.duration(to: clock.now) }
        sleep = { time in try await clock.sleep(until: start.advanced(by: time), tolerance: nil) }
    }
}
