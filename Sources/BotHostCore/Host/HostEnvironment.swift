import Foundation
package import Logging

/// What the host takes from the world, so that tests can hand in their own: the clock
/// that retry backoff, lock standby and plugin schedulers wait on, the randomness behind
/// jitter, the logger. (Timeouts that bound real work, such as a handler's or a hook's,
/// always run in real time.)
package struct HostEnvironment: Sendable {
    package var clock: any Clock<Duration>
    package var random: @Sendable () -> Double
    package var logger: Logger
    /// How often a standby bot tries its lock again (`on_locked: wait`).
    package var standbyRecheckInterval: Duration
    /// Where each bot looks for replayed dead letters in its journal, reads the journal's
    /// counts and prunes it (hourly at most), once per `journalHousekeepingInterval`.
    package var journalHousekeeping: RecurringChecks
    /// The process environment: `NOTIFY_SOCKET` and `WATCHDOG_USEC` for systemd,
    /// `PGPASSWORD` for the lock database.
    package var variables: [String: String]
    /// Heartbeat and takeover timing of the PostgreSQL lock backend.
    package var lockSessionTiming: LockSessionTiming
    /// Called whenever a bot's status changes: a worker process then reports to its
    /// supervisor, which it need not ask every bot about again and again.
    var onStatusChange: (@Sendable (BotStatus) -> Void)?
    /// This process's webhook bots, where deliveries find them.
    package var webhookInbox = WebhookInbox()
    /// Where this process's webhook bots ask `getWebhookInfo` once a minute.
    package var webhookChecks = RecurringChecks(interval: .seconds(60))

    package init(
        clock: any Clock<Duration> = ContinuousClock(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger, standbyRecheckInterval: Duration = .milliseconds(200),
        journalHousekeepingInterval: Duration = .seconds(30),
        variables: [String: String] = ProcessInfo.processInfo.environment,
        lockSessionTiming: LockSessionTiming = LockSessionTiming()
    ) {
        self.clock = clock
        self.random = random
        self.logger = logger
        self.standbyRecheckInterval = standbyRecheckInterval
        self.journalHousekeeping = RecurringChecks(interval: journalHousekeepingInterval)
        self.variables = variables
        self.lockSessionTiming = lockSessionTiming
    }
}
