import Foundation
package import Logging
package import TelegramBotAPI

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
    /// The bots of this process that start at once (their journal's recovery, `getMe`,
    /// the plugin's `init`), each for ``startTurn`` at most: the others wait their turn.
    ///
    /// A start's memory that is let go of again (the answers of its calls, the plugin's
    /// setting up) lands between the memory the bots keep for good; with every bot of a
    /// worker starting at once, the C heap kept those holes: a worker of 3,333 idle
    /// webhook bots held 255 MiB, and 190 MiB with 64 starts at a time. (Limiting only
    /// the journals' opening saved nothing.)
    package var starts = ConcurrentCallLimit(64)
    /// How long a bot's start keeps its turn: one whose `getMe` backs off or whose
    /// plugin's `init` hangs holds the others back this long at most.
    static let startTurn = Duration.seconds(5)

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
