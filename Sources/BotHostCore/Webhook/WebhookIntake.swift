import Logging
import Synchronization
import TelegramBotAPI

/// Where a webhook bot's deliveries enter its pipeline, in the process that runs the bot.
///
/// A delivery is committed to the bot's journal before it is answered ``WebhookAnswer/accepted``
/// (and so 200); from then on the journal owns it, exactly as a polled batch. A repeated
/// `update_id` (``RecentUpdateIDs``) is answered ``WebhookAnswer/duplicate`` without a
/// second entry. A paused bot, a full backlog, a journal that cannot write or an intake
/// already closed for a stop answer with a retry, so that Telegram keeps the update.
final class WebhookIntake: Sendable {
    private let journal: any UpdateJournal
    private let dispatcher: UpdateDispatcher
    private let status: BotStatus
    private let pause: PauseSwitch
    private let logger: Logger
    /// The journal's `getUpdates` offset, which webhook deliveries leave as it is.
    private let offset: Int64
    private let recent: Mutex<RecentUpdateIDs>
    private let open = Atomic<Bool>(true)

    init(
        journal: any UpdateJournal, dispatcher: UpdateDispatcher, status: BotStatus, pause: PauseSwitch, offset: Int64?,
        recent: [Int64], logger: Logger
    ) {
        self.journal = journal
        self.dispatcher = dispatcher
        self.status = status
        self.pause = pause
        self.offset = offset ?? 0
        self.recent = Mutex(RecentUpdateIDs(seed: recent))
        self.logger = logger
    }

    /// Takes no more deliveries: the bot is stopping.
    func close() {
        open.store(false, ordering: .releasing)
    }

    /// Commits `update` to the journal and hands it to the dispatcher, or says why not.
    func accept(_ update: Update) async -> WebhookAnswer {
        guard open.load(ordering: .acquiring) else { return .unavailable }
        if pause.isPaused { return .paused }
        if dispatcher.unfinishedCount >= PollingPipeline.backlogLimit { return .backlogFull }
        switch recent.withLock({ $0.claim(update.updateID) }) {
        case .committed: return .duplicate
        case .writing: return .unavailable
        case .new: break
        }
        let entries: [JournalEntry]
        do {
            entries = try await journal.append([update], nextOffset: offset)
        } catch {
            recent.withLock { $0.release(update.updateID) }
            status.failed(error.description)
            logger.error("\(error); webhook delivery of update \(update.updateID) answered 503, Telegram delivers it again")
            return .journalUnavailable
        }
        recent.withLock { $0.commit(update.updateID) }
        status.delivered()
        if let problem = update.decodingProblem {
            logger.warning(
                "update does not fit the Bot API model (\(problem)); the plugin gets it as raw JSON",
                metadata: ["update_id": .stringConvertible(update.updateID), "kind": "\(update.kind)"])
        }
        dispatcher.enqueue(entries)
        return .accepted
    }
}
