/// Failed attempts in a row, and the wait before the next one, per a ``RetryPolicy``.
struct Backoff: Sendable {
    let policy: RetryPolicy
    /// Draws the jitter, uniformly in 0..<1; tests pass a constant.
    let random: @Sendable () -> Double
    private(set) var attempt = 0

    init(policy: RetryPolicy, random: @escaping @Sendable () -> Double) {
        self.policy = policy
        self.random = random
    }

    /// Counts one more failure and returns the wait before retrying (at least `minimum`),
    /// or `nil` once the policy gives up.
    mutating func nextDelay(atLeast minimum: Duration = .zero) -> Duration? {
        attempt += 1
        return policy.delay(attempt: attempt, random: random()).map { max($0, minimum) }
    }

    /// A success: the next failure is attempt 1 again.
    mutating func reset() { attempt = 0 }

    /// `2/5`, or `2/unlimited`.
    var progress: String { "\(attempt)/\(policy.maxRetriesDescription)" }
}
