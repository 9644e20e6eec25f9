import Synchronization
package import TelegramBotAPI

/// The webhook bots that take deliveries in this process, by lock id: where a delivery
/// that reached the process (from the listener in the same process, or from the
/// supervisor's listener over the worker's link) finds its bot's ``WebhookIntake``.
package final class WebhookInbox: Sendable, WebhookDeliveryTarget {
    private let intakes = Mutex<[LockID: WebhookIntake]>([:])

    package init() {}

    func register(_ intake: WebhookIntake, for bot: LockID) {
        intakes.withLock { $0[bot] = intake }
    }

    /// Forgets `intake`, unless a later run of the bot registered its own meanwhile.
    func remove(_ intake: WebhookIntake, for bot: LockID) {
        intakes.withLock { intakes in
            if intakes[bot] === intake { intakes[bot] = nil }
        }
    }

    /// Hands `update` to the intake of the bot whose lock id is `lock`; ``WebhookAnswer/unavailable``
    /// when that bot takes no deliveries in this process now.
    func accept(_ update: Update, for lock: LockID) async -> WebhookAnswer {
        guard let intake = intakes.withLock({ $0[lock] }) else { return .unavailable }
        return await intake.accept(update)
    }

    package func deliver(_ update: Update, to bot: WebhookBot) async -> WebhookAnswer {
        await accept(update, for: bot.lockID)
    }
}
