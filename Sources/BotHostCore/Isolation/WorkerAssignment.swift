/// What the supervisor asks of one worker process: run these bots of this manifest.
///
/// One line of JSON on the worker's standard input, sent when the worker starts and
/// whenever its share of the bots changes (a reload, a bot that ended) or the operator
/// pauses, resumes or restarts one of them or hands its dead letters back. The worker applies each one as a reload, so
/// the bots it keeps are not disturbed.
struct WorkerAssignment: Codable, Sendable, Equatable {
    /// The manifest's path, for messages and relative paths.
    var manifestFile: String
    /// The manifest as the supervisor read it, so that a file edited since (without
    /// SIGHUP) changes nothing.
    var manifestText: String
    /// Which of the supervisor's reads of the manifest this is, from 1 at start: a reload
    /// reads the token files again, which may give a bot another token under the same text.
    var manifestRevision: Int
    /// The bots to run, by name, each with the hex lock id the supervisor holds for it.
    var bots: [String: String]
    /// The hex lock ids of the bots taken away because the supervisor lost their locks:
    /// the worker loses them too (``DelegatedTokenLock``).
    var lostLocks: Set<String>
    /// The sandbox emulator's base URL, for bots with `api_url: sandbox`; the emulator
    /// runs in the supervisor.
    var sandboxURL: String?
    /// The bots the operator paused (the control API): the worker sends no `getUpdates`
    /// for them until an assignment leaves them out.
    var paused: Set<String>
    /// How often the operator has asked to restart each bot, from 0: a worker restarts a
    /// bot whose count went up since its last assignment. A count rather than an order, so
    /// that an assignment sent again, or to a worker started afresh, restarts nothing.
    var restarts: [String: Int]
    /// How often the operator has handed dead letters of each bot back, from 0: the bot
    /// looks into its journal at once when its count went up. A count, as `restarts` is.
    var journalWakeups: [String: Int]
}

/// What a worker tells the supervisor: one line of JSON on its report pipe (its original
/// standard output), sent when something changed or the supervisor asked.
struct WorkerReport: Codable, Sendable {
    /// The bots whose status changed since the last report, by name. A bot the worker no
    /// longer runs is reported once more, as stopped or failed.
    var bots: [String: BotStatus.Snapshot]
    /// The worker's metrics, when the supervisor asked for them.
    var metrics: CollectedMetrics? = nil
    /// What became of forwarded webhook deliveries.
    var answers: [ForwardedDelivery.Answer]? = nil
}
