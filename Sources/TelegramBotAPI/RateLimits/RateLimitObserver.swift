/// What a bot's outgoing calls meet on their way out, told as it happens, for metrics: the
/// calls its rate limiter holds back, and Telegram's 429s. Called from any thread; keep it
/// quick.
package protocol RateLimitObserver: Sendable {
    /// Calls waiting in the limiter now.
    func queueChanged(length: Int)
    /// A call that the limiter held back went after `wait`.
    func callWaited(_ wait: Duration)
    /// A call was refused: it would have waited past the max wait.
    func callRefused()
    /// Telegram answered an outgoing call with 429.
    func callRateLimited()
}
