public import TelegramBotAPI

/// A message a bot sent, as the emulator received it.
public struct SentMessage: Sendable, Hashable {
    public var chatID: ChatID
    public var text: String
    public var messageID: Int64
    /// When the emulator received it: benchmarks measure reply latency with it.
    public var receivedAt: ContinuousClock.Instant
}

/// One `getUpdates` call as the emulator saw it: what was asked and how it ended.
public struct GetUpdatesCall: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Answered with updates (their ids, possibly none after the timeout).
        case updates([Int64])
        /// Answered 409 because a later `getUpdates` came in while this one waited.
        case terminatedByOtherPoll
        /// Answered 409 because a webhook is set.
        case webhookConflict
        /// Answered with an injected fault.
        case fault(EmulatorFault)
        /// The client went away before an answer (it cancelled its poll).
        case abandoned
        /// Still waiting for an update.
        case pending
    }

    public var offset: Int64?
    public var limit: Int
    public var timeout: Int
    public var outcome: Outcome
}
