import Synchronization
package import TelegramBotAPI

/// A bot that takes webhook deliveries: what the listener needs to route and check one.
package struct WebhookBot: Sendable, Hashable {
    package var name: String
    package var lockID: LockID
    package var secret: WebhookSecret

    init(_ bot: BotConfiguration) {
        name = bot.name
        lockID = bot.lockID
        secret = WebhookSecret(token: bot.token)
    }
}

/// Where the listener finds a bot by the lock id in a delivery's path: the manifest's
/// webhook bots, replaced on a reload.
final class WebhookDirectory: Sendable {
    private let bots = Mutex<[String: WebhookBot]>([:])

    init(_ manifest: Manifest) {
        use(manifest)
    }

    /// The webhook bots of `manifest` from now on.
    func use(_ manifest: Manifest) {
        let webhookBots = manifest.bots.filter { $0.ingress == .webhook && $0.unavailableToken == nil }
        bots.withLock { bots in
            bots = Dictionary(webhookBots.map { ($0.lockID.hex, WebhookBot($0)) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The bot whose lock id is `hex`.
    func bot(_ hex: Substring) -> WebhookBot? {
        bots.withLock { $0[String(hex)] }
    }
}

/// Where the listener hands a delivery that passed its checks: the bot's intake in this
/// process (``WebhookInbox``), or the worker process that runs the bot (``WorkerPool``).
package protocol WebhookDeliveryTarget: Sendable {
    /// Takes `update` for `bot`; never throws: every outcome is an answer to Telegram.
    func deliver(_ update: Update, to bot: WebhookBot) async -> WebhookAnswer
}
