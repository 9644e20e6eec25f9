/// A call that the bot's rate limits would hold back longer than its maximum wait
/// (`limits.max_wait`, by default the handler timeout): it fails at once, or when the wait
/// runs out, rather than pile up behind calls that cannot go in time. Nothing was sent.
public struct RateLimitWaitTooLong: Error, Sendable, Equatable, CustomStringConvertible {
    /// The Bot API method, such as `sendMessage`.
    public let method: String
    /// The chat the call was for, if it names one.
    public let chat: ChatID?
    /// How long it would have had to wait at least.
    public let wait: Duration
    /// The most a call may wait.
    public let maxWait: Duration

    public init(method: String, chat: ChatID?, wait: Duration, maxWait: Duration) {
        self.method = method
        self.chat = chat
        self.wait = wait
        self.maxWait = maxWait
    }

    public var description: String {
        let target = chat.map { " to chat \($0)" } ?? ""
        return "\(method)\(target) not sent: the bot's rate limits would hold it back \(formatDuration(wait)) or more, "
            + "longer than its max wait of \(formatDuration(maxWait))"
    }
}
