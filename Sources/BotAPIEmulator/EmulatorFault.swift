/// A failure the emulator plays instead of a real answer, so tests can see how a client
/// copes with what Telegram and the network do on bad days.
public enum EmulatorFault: Sendable, Hashable {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after = N`.
    case rateLimited(retryAfter: Int)
    /// An `ok: false` answer with this 5xx status.
    case serverError(status: Int)
    /// Waits this long, then answers normally.
    case delay(Duration)
    /// Starts a response, then closes the connection mid-body.
    case dropConnection
    /// Answers 200 with a body that is not JSON.
    case malformedJSON
    /// 409 `Conflict: terminated by other getUpdates request; ...`, as if another poller
    /// had taken the token.
    case conflict
}
