/// An OTP supervisor's restart intensity: a worker that crashes more than `intensity`
/// times within `period` is in a crash loop, and restarting it again would only repeat
/// the crash (`isolation.restart: { intensity, period }`).
///
/// Restarts within the limit wait a little longer each time: the first at once, then
/// 50 ms, 100 ms, … up to 2 s, so that a crash that follows every start does not spin.
struct RestartIntensity: Sendable {
    let intensity: Int
    let period: Duration
    /// When the crashes within the last `period` happened, oldest first.
    private var crashes: [ContinuousClock.Instant] = []

    init(intensity: Int, period: Duration) {
        self.intensity = intensity
        self.period = period
    }

    /// The crashes within the last `period`, as of the last ``crashed(at:)``.
    var recentCrashes: Int { crashes.count }

    /// Records a crash at `now`: the delay before the restart, or `nil` when this crash is
    /// one more than `intensity` within `period`.
    mutating func crashed(at now: ContinuousClock.Instant) -> Duration? {
        crashes.removeAll { now - $0 >= period }
        crashes.append(now)
        guard crashes.count <= intensity else { return nil }
        let doublings = min(crashes.count - 2, 6)
        return doublings < 0 ? .zero : min(.milliseconds(50) * (1 << doublings), .seconds(2))
    }
}
