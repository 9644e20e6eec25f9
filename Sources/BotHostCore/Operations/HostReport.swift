import BotHostKit
import Foundation

/// What `/health`, `/ready` and systemd's `STATUS=` say about the host, computed from
/// the bots' statuses when asked.
struct HostReport: Sendable {
    struct Bot: Encodable, Sendable {
        var name: String
        var state: String
        var retries: Int
        var lastError: String?
        /// When a rate-limited bot polls again (ISO 8601).
        var resumesAt: String?
        var updatesReceived: Int
        var updatesHandled: Int
        var handlerErrors: Int
        var conflicts: Int
        /// The update journal's counts, once read: `unfinished`, `dead_letters`, `finished`.
        var journal: Journal?
        /// The pid of the worker process that runs the bot (`isolation: { mode: process }`).
        var workerPID: Int32?
        /// A webhook bot's webhook: Telegram's `getWebhookInfo` and the deliveries taken.
        var webhook: WebhookHealth?

        enum CodingKeys: String, CodingKey {
            case name, state, retries, conflicts, journal, webhook
            case workerPID = "worker_pid"
            case lastError = "last_error"
            case resumesAt = "resumes_at"
            case updatesReceived = "updates_received"
            case updatesHandled = "updates_handled"
            case handlerErrors = "handler_errors"
        }
    }

    struct Journal: Encodable, Sendable {
        var unfinished: Int
        var deadLetters: Int
        var finished: Int

        enum CodingKeys: String, CodingKey {
            case unfinished, finished
            case deadLetters = "dead_letters"
        }
    }

    struct Health: Encodable, Sendable {
        var status = "ok"
        var pid: Int32
        var uptimeSeconds: Double
        var bots: [Bot]

        enum CodingKeys: String, CodingKey {
            case status, pid, bots
            case uptimeSeconds = "uptime_seconds"
        }
    }

    struct Readiness: Encodable, Sendable {
        var ready: Bool
        /// Bots that are not yet polling, standing by, or paused by the operator.
        var waitingFor: [String]

        enum CodingKeys: String, CodingKey {
            case ready
            case waitingFor = "waiting_for"
        }
    }

    let started: ContinuousClock.Instant
    let statuses: @Sendable () -> [(name: String, snapshot: BotStatus.Snapshot)]
    /// Bots skipped at start-up (`on_locked: skip`): never polled by this host.
    let skipped: @Sendable () -> [String]

    func health() -> Health {
        let bots =
            statuses().map { name, snapshot in
                Bot(
                    name: name, state: snapshot.state.rawValue, retries: snapshot.retries, lastError: snapshot.lastError,
                    resumesAt: snapshot.resumesAt.map { $0.formatted(.iso8601) },
                    updatesReceived: snapshot.updatesReceived, updatesHandled: snapshot.updatesHandled,
                    handlerErrors: snapshot.handlerErrors, conflicts: snapshot.conflicts,
                    journal: snapshot.journal.map {
                        Journal(unfinished: $0.unfinished, deadLetters: $0.deadLetters, finished: $0.finished)
                    }, workerPID: snapshot.workerPID, webhook: snapshot.webhook)
            }
            + skipped().map {
                Bot(
                    name: $0, state: BotState.skipped.rawValue, retries: 0, updatesReceived: 0, updatesHandled: 0,
                    handlerErrors: 0, conflicts: 0, journal: nil)
            }
        return Health(pid: getpid(), uptimeSeconds: (ContinuousClock.now - started).seconds, bots: bots)
    }

    func readiness() -> (ready: Bool, body: Readiness) {
        let waiting = statuses().filter { ![.polling, .receiving, .standby, .paused].contains($0.snapshot.state) }.map(\.name)
        return (waiting.isEmpty, Readiness(ready: waiting.isEmpty, waitingFor: waiting))
    }

    /// `3 polling, 1 standby`: the one-line summary for systemd's `STATUS=`.
    func summary() -> String {
        let counts = Dictionary(grouping: statuses(), by: \.snapshot.state).mapValues(\.count)
        let parts = BotState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
        return parts.isEmpty ? "no bots" : parts.joined(separator: ", ")
    }
}
