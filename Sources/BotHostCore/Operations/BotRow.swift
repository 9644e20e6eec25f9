import BotHostKit

/// One bot as the control API's `GET /bots` lists it, the dashboard shows it and
/// `bothost ctl bots` reads it back. Never a token.
struct BotRow: Codable, Sendable, Equatable {
    var name: String
    /// `polling`, `paused`, `failed`, … (`BotState`).
    var state: String
    /// Why the bot failed, in a few words: `token rejected`.
    var failure: String?
    /// Whether the operator paused it; its state turns `paused` at its next poll.
    var paused: Bool
    /// The lock id (of the bot id, never the token).
    var lock: String?
    /// The worker process that runs the bot, under a supervisor; none once it has ended.
    var workerPID: Int32?
    /// Updates handled per second lately (``UpdateRates``).
    var updatesPerSecond: Double
    var updatesReceived: Int
    var updatesHandled: Int
    var handlerErrors: Int
    /// Answers 429 to its polls and outgoing calls.
    var rateLimited: Int
    /// Answers 409 to its polls: another poller, or a webhook.
    var conflicts: Int
    /// Failed attempts in a row.
    var retries: Int
    var restarts: Int
    /// Updates journaled and not yet finished, as the journal was last read.
    var backlog: Int?
    var deadLetters: Int?
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case name, state, failure, paused, lock, conflicts, retries, restarts, backlog
        case workerPID = "worker_pid"
        case updatesPerSecond = "updates_per_second"
        case updatesReceived = "updates_received"
        case updatesHandled = "updates_handled"
        case handlerErrors = "handler_errors"
        case rateLimited = "rate_limited"
        case deadLetters = "dead_letters"
        case lastError = "last_error"
    }

    init(name: String, lock: LockID?, snapshot: BotStatus.Snapshot, paused: Bool, updatesPerSecond: Double) {
        self.name = name
        state = snapshot.state.rawValue
        failure = snapshot.state == .failed ? snapshot.failure : nil
        self.paused = paused
        self.lock = lock?.hex
        // A bot that has ended runs in no worker, whatever its last report said.
        workerPID = [.failed, .stopped, .skipped].contains(snapshot.state) ? nil : snapshot.workerPID
        self.updatesPerSecond = updatesPerSecond
        updatesReceived = snapshot.updatesReceived
        updatesHandled = snapshot.updatesHandled
        handlerErrors = snapshot.handlerErrors
        rateLimited = snapshot.rateLimited
        conflicts = snapshot.conflicts
        retries = snapshot.retries
        restarts = snapshot.restarts
        backlog = snapshot.journal?.unfinished
        deadLetters = snapshot.journal?.deadLetters
        lastError = snapshot.lastError
    }

    /// `failed: token rejected`, `paused`, `polling (pausing)`: the state as a person reads it.
    var shownState: String {
        if let failure { return "\(state): \(failure)" }
        if paused && state != BotState.paused.rawValue { return "\(state) (pausing)" }
        return state
    }
}

/// What `GET /bots` answers: the host, and each bot in the order they started.
struct BotList: Codable, Sendable {
    var pid: Int32
    var uptimeSeconds: Double
    var bots: [BotRow]

    enum CodingKeys: String, CodingKey {
        case pid, bots
        case uptimeSeconds = "uptime_seconds"
    }
}
