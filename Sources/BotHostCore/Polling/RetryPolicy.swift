import BotHostKit
import Foundation

/// How one bot backs off after failed polls.
///
/// Attempt `n` (1-based) waits `min(initialDelay × backoffFactor^(n−1), maxDelay)`,
/// spread uniformly by ±`jitter` so that many bots failing together do not retry in step.
/// After `maxRetries` failed attempts in a row the bot gives up; a successful poll starts
/// the count again.
package struct RetryPolicy: Sendable, Hashable {
    /// `nil` retries for ever (`max_retries: unlimited`).
    package var maxRetries: Int? = 5
    package var initialDelay: Duration = .seconds(5)
    package var maxDelay: Duration = .seconds(300)
    package var backoffFactor: Double = 2.0
    /// Fraction of the delay to spread by, 0...1.
    package var jitter: Double = 0.1

    package init(
        maxRetries: Int? = 5, initialDelay: Duration = .seconds(5), maxDelay: Duration = .seconds(300),
        backoffFactor: Double = 2.0, jitter: Double = 0.1
    ) {
        self.maxRetries = maxRetries
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.backoffFactor = backoffFactor
        self.jitter = jitter
    }

    /// The delay before retry `attempt` (1-based) without jitter, or `nil` once the
    /// policy gives up.
    package func baseDelay(attempt: Int) -> Duration? {
        precondition(attempt >= 1, "attempts count from 1")
        if let maxRetries, attempt > maxRetries { return nil }
        let initial = initialDelay.seconds
        let grown = initial * pow(backoffFactor, Double(attempt - 1))
        return .seconds(min(grown, maxDelay.seconds))
    }

    /// The delay before retry `attempt` with jitter drawn from `random` (0..<1), or `nil`
    /// once the policy gives up.
    package func delay(attempt: Int, random: Double) -> Duration? {
        guard let base = baseDelay(attempt: attempt) else { return nil }
        let spread = 1 + jitter * (2 * random - 1)
        return .seconds(max(0, base.seconds * spread))
    }

    /// How `max_retries` reads in logs: `5` or `unlimited`.
    package var maxRetriesDescription: String { maxRetries.map(String.init) ?? "unlimited" }
}
