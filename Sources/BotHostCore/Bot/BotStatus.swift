import BotHostKit
import Logging
import Synchronization

/// What one bot is doing right now, for logs, the admin endpoint and its plugin.
final class BotStatus: Sendable {
    struct Snapshot: Sendable {
        var state: BotState = .starting
        /// Failed attempts in a row.
        var retries = 0
        var lastError: String?
        var updatesReceived = 0
        var updatesHandled = 0
        var handlerErrors = 0
        var conflicts = 0
    }

    let name: String
    let events = BotEvents()
    private let snapshot = Mutex(Snapshot())
    private let logger: Logger

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    var current: Snapshot { snapshot.withLock { $0 } }
    var state: BotState { current.state }

    /// Moves to `state`, logging the change once.
    func enter(_ state: BotState, reason: String? = nil) {
        let changed = snapshot.withLock { snapshot in
            defer { snapshot.state = state }
            return snapshot.state != state
        }
        guard changed else { return }
        var metadata: Logger.Metadata = ["state": "\(state.rawValue)"]
        if let reason { metadata["reason"] = "\(reason)" }
        logger.info("state changed", metadata: metadata)
        events.publish(.stateChanged(state))
    }

    func update(_ body: (inout Snapshot) -> Void) {
        snapshot.withLock { body(&$0) }
    }
}
