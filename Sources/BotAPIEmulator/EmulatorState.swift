import Foundation
import Synchronization
import TelegramBotAPI

/// Everything the emulator knows, per bot id, behind one lock.
///
/// Telegram's rules that tests rely on live here: rising `update_id`s from a random first
/// one, an offset confirming every lower update (an offset far past the queue's tail or far
/// behind it is ignored), a repeated offset answered with one update and a short `timeout`
/// raised, a later `getUpdates` ending an earlier pending one with 409, the webhook
/// conflict, `setWebhook` at most once a second, and 401 for tokens it does not know. The
/// queue rules are the real server's (tdlib/telegram-bot-api, `do_get_updates` and td's
/// `TQueue`), so that clients meet here what they meet in production.
final class EmulatorState: Sendable {
    /// What a Bot API method answers: a result or Telegram's error object.
    enum Answer: Sendable {
        case result(JSONValue)
        case error(status: Int, description: String, retryAfter: Int? = nil)
        case fault(EmulatorFault)

        var result: JSONValue? {
            if case .result(let value) = self { return value }
            return nil
        }

        var errorDescription: String? {
            if case .error(_, let description, _) = self { return description }
            return nil
        }
    }

    private struct PollWaiter {
        var id: UInt64
        var callIndex: Int
        var limit: Int
        var continuation: CheckedContinuation<Answer, Never>
    }

    private struct Bot {
        var token: String
        var user: User
        var queue: [(id: Int64, update: JSONValue)] = []
        var nextUpdateID = EmulatorState.randomFirstUpdateID()
        /// The previous `getUpdates`: a repeated offset soon after gets less.
        var lastPoll: (offset: Int64?, at: ContinuousClock.Instant)?
        var lastSetWebhook: ContinuousClock.Instant?
        var nextMessageID: Int64 = 1
        var webhookURL = ""
        var webhook = WebhookState()
        var waiter: PollWaiter?
        var sent: [SentMessage] = []
        /// Every call but `getUpdates`, in order.
        var recorded: [RecordedCall] = []
        /// Chats seen in updates or added: `chat not found` is for the others.
        var chats: Set<Int64> = []
        var chatUsernames: Set<String> = []
        var calls: [GetUpdatesCall] = []
        var methodCalls: [String: Int] = [:]
        var faults: [String: [EmulatorFault]] = [:]
        /// Faults played on every `period`-th call of a method, cycling through `faults`.
        var periodicFaults: [String: (period: Int, faults: [EmulatorFault], played: Int)] = [:]
        /// What the bot sent, against the enforced limits; made at its first message.
        var sending: RateLimitBuckets?
        /// Calls answered 429, for whatever reason.
        var rateLimitedAnswers = 0
    }

    /// A bot's webhook deliveries: what is under way, what waits for a retry, and how each
    /// ended.
    private struct WebhookState {
        var secret: String?
        var maxConnections = 40
        var allowedUpdates: [String]?
        /// Updates posted and not yet answered.
        var inFlight: Set<Int64> = []
        /// Updates whose delivery failed: when to try again, and how many tries failed.
        var retries: [Int64: (at: ContinuousClock.Instant, failures: Int)] = [:]
        var records: [WebhookDeliveryRecord] = []
        var lastError: (message: String, date: Int64)?
    }

    private struct State {
        /// Told the bot id whenever a bot's webhook may have work: an update queued, a
        /// webhook set.
        var onWebhookWork: (@Sendable (String) -> Void)?
        var bots: [String: Bot] = [:]
        var nextWaiterID: UInt64 = 1
        /// Whether the server is stopping: polls are answered at once, so that none holds
        /// its connection (and the graceful stop) for its timeout.
        var stopping = false
        /// Whether numeric chat ids must have been seen (in an update, or added) to be sent to.
        var strictChats = false
        /// The sending limits answered with 429 past them (`--limits telegram`).
        var rateLimits = RateLimits.off
        /// The time the rate limits' buckets count in.
        var rateLimitTime = Timeline(ContinuousClock())
    }

    private let state = Mutex(State())

    /// How early a message may come before the limits allow it: the network's jitter
    /// (and a loaded machine's) shifts a client's well-paced messages by this much.
    static let rateLimitGrace = Duration.milliseconds(250)

    /// A first `update_id` as the real server picks one: random, from 2,000,001 on.
    static func randomFirstUpdateID() -> Int64 {
        Int64.random(in: 2_000_001...1_000_000_000)
    }

    /// Repeating an offset within this gets `limit` 1.
    static let repeatedOffsetLimitWindow = Duration.milliseconds(500)
    /// Repeating an offset within this raises a shorter `timeout` to it.
    static let repeatedOffsetTimeout = 3

    static let otherPollConflict =
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

    // MARK: - Bots

    /// Registers a bot; its username defaults to `bot<id>`. Re-adding a token keeps its state.
    @discardableResult
    func addBot(token: BotToken, username: String?) -> User {
        mutate { state in
            if let existing = state.bots[token.botID] {
                state.bots[token.botID]?.token = token.secretValue
                return existing.user
            }
            let user = User(
                id: Int64(token.botID) ?? 0, isBot: true, firstName: username ?? "Bot \(token.botID)",
                username: username ?? "bot\(token.botID)")
            state.bots[token.botID] = Bot(token: token.secretValue, user: user)
            return user
        }
    }

    /// The bot a request path's token names, or the error Telegram gives: 404 for a
    /// malformed token, 401 for a well-formed one it does not know.
    func authenticate(_ tokenString: String) -> Result<String, AuthenticationFailure> {
        guard let token = try? BotToken(tokenString) else { return .failure(.notFound) }
        return state.withLock { state in
            guard let bot = state.bots[token.botID], bot.token == tokenString else { return .failure(.unauthorized) }
            return .success(token.botID)
        }
    }

    enum AuthenticationFailure: Error {
        case notFound, unauthorized
    }

    func user(of botID: String) -> User? {
        state.withLock { $0.bots[botID]?.user }
    }

    // MARK: - Faults

    func addFault(_ fault: EmulatorFault, botID: String, method: String, count: Int) {
        mutate { state in
            state.bots[botID]?.faults[method, default: []] += Array(repeating: fault, count: count)
        }
    }

    func addPeriodicFaults(_ faults: [EmulatorFault], botID: String, method: String, period: Int) {
        mutate { state in
            state.bots[botID]?.periodicFaults[method] = (max(1, period), faults, 0)
        }
    }

    /// Counts the call and takes the fault to play for it, if any: an injected one first,
    /// else a periodic one when the call count comes round.
    func takeFault(botID: String, method: String) -> EmulatorFault? {
        mutate { state in
            guard var bot = state.bots[botID] else { return nil }
            defer { state.bots[botID] = bot }
            bot.methodCalls[method, default: 0] += 1
            if var faults = bot.faults[method], !faults.isEmpty {
                let fault = faults.removeFirst()
                bot.faults[method] = faults
                return fault
            }
            guard let periodic = bot.periodicFaults[method], !periodic.faults.isEmpty,
                bot.methodCalls[method, default: 0] % periodic.period == 0
            else { return nil }
            bot.periodicFaults[method]?.played += 1
            return periodic.faults[periodic.played % periodic.faults.count]
        }
    }

    // MARK: - Rate limits

    func enforce(_ limits: RateLimits, clock: any Clock<Duration>) {
        mutate { state in
            state.rateLimits = limits
            state.rateLimitTime = Timeline(clock)
            for id in state.bots.keys { state.bots[id]?.sending = nil }
        }
    }

    /// Counts `messages` as sent by the bot; past the enforced limits (up to
    /// ``rateLimitGrace`` early is let through), counts nothing and returns the
    /// `retry_after` to answer 429 with: the whole seconds until they would go.
    func retryAfter(sending messages: OutgoingMessages, botID: String) -> Int? {
        mutate { state in
            guard !state.rateLimits.isOff, messages.count > 0, var bot = state.bots[botID] else { return nil }
            let now = state.rateLimitTime.now()
            defer { state.bots[botID] = bot }
            var buckets = bot.sending ?? RateLimitBuckets(state.rateLimits, at: now)
            defer { bot.sending = buckets }
            let wait = max(
                buckets.chatDelay(for: messages, at: now, grace: Self.rateLimitGrace),
                buckets.botDelay(for: messages, at: now, grace: Self.rateLimitGrace))
            guard wait > .zero else {
                buckets.take(messages, at: now)
                return nil
            }
            return max(1, Int(wait.seconds.rounded(.up)))
        }
    }

    /// Counts a 429 answered to the bot.
    func countRateLimited(botID: String) {
        mutate { $0.bots[botID]?.rateLimitedAnswers += 1 }
    }

    func rateLimitedCount(botID: String) -> Int {
        state.withLock { $0.bots[botID]?.rateLimitedAnswers ?? 0 }
    }

    // MARK: - Updates

    /// Appends an update (without `update_id`; one is assigned) and wakes a pending poll.
    @discardableResult
    func inject(botID: String, kind: String, payload: JSONValue) -> Int64? {
        let (id, wake) = mutate { state -> (Int64?, (CheckedContinuation<Answer, Never>, Answer)?) in
            guard var bot = state.bots[botID] else { return (nil, nil) }
            let id = bot.nextUpdateID
            bot.nextUpdateID += 1
            bot.queue.append((id, .object(["update_id": .number(Double(id)), kind: payload])))
            for chat in [payload["chat"], payload["message"]?["chat"], payload["from"]] {
                if let id = chat?["id"]?.intValue { bot.chats.insert(Int64(id)) }
                if let name = chat?["username"]?.stringValue { bot.chatUsernames.insert("@" + name.lowercased()) }
            }
            let wake = Self.answerWaiter(of: &bot)
            state.bots[botID] = bot
            return (id, wake)
        }
        if let (continuation, answer) = wake { continuation.resume(returning: answer) }
        if id != nil { notifyWebhookWork(botID) }
        return id
    }

    /// Queues a text message from `user`, in their private chat unless `chatID` names a group.
    func injectText(_ text: String, botID: String, from user: User, chatID: Int64?) -> Int64? {
        let chat = chatID ?? user.id
        let messageID = mutate { state in
            let id = state.bots[botID]?.nextMessageID ?? 1
            state.bots[botID]?.nextMessageID = id + 1
            return id
        }
        let message: JSONValue = .object([
            "message_id": .number(Double(messageID)),
            "from": user.json,
            "chat": .object(["id": .number(Double(chat)), "type": .string(chat == user.id ? "private" : "group")]),
            "date": .number(Date().timeIntervalSince1970.rounded(.down)),
            "text": .string(text),
        ])
        return inject(botID: botID, kind: "message", payload: message)
    }

    func recordFaultedPoll(botID: String, fault: EmulatorFault, parameters: Parameters) {
        mutate { state in
            state.bots[botID]?.calls.append(
                GetUpdatesCall(
                    offset: parameters.int("offset").map(Int64.init), limit: parameters.int("limit") ?? 100,
                    timeout: parameters.int("timeout") ?? 0, outcome: .fault(fault)))
        }
    }

    /// Whether a poll of this bot is waiting.
    func hasPendingPoll(botID: String) -> Bool {
        state.withLock { $0.bots[botID]?.waiter != nil }
    }

    /// `getUpdates`: confirms below `offset` (unless the offset is one the server ignores),
    /// ends an earlier pending poll with 409, then answers at once if updates are queued or
    /// `timeout` is 0, and otherwise waits for one. `onWait` receives the waiter's id, so
    /// that the caller can abandon it, and the `timeout` in force, which a repeated offset
    /// may have raised.
    func getUpdates(
        botID: String, offset: Int64?, limit: Int, timeout: Int, onWait: @Sendable (_ waiterID: UInt64, _ timeout: Int) -> Void
    ) async -> Answer {
        var earlier: CheckedContinuation<Answer, Never>?
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let immediate = mutate { state -> Answer? in
                guard var bot = state.bots[botID] else { return .error(status: 401, description: "Unauthorized") }
                defer { state.bots[botID] = bot }
                let now = ContinuousClock.now
                let granted = Self.inForce(limit: limit, timeout: timeout, offset: offset, bot: bot, now: now)
                bot.lastPoll = (offset, now)
                if let offset, Self.honours(offset, bot) { Self.confirm(&bot, below: offset) }
                let index = bot.calls.count
                bot.calls.append(
                    GetUpdatesCall(offset: offset, limit: limit, timeout: timeout, outcome: .pending, receivedAt: now))
                if let waiter = bot.waiter {
                    bot.waiter = nil
                    bot.calls[waiter.callIndex].outcome = .terminatedByOtherPoll
                    earlier = waiter.continuation
                }
                if !bot.webhookURL.isEmpty {
                    bot.calls[index].outcome = .webhookConflict
                    return .error(
                        status: 409,
                        description:
                            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
                    )
                }
                if !bot.queue.isEmpty || granted.timeout == 0 || state.stopping {
                    let taken = Array(bot.queue.prefix(granted.limit))
                    bot.calls[index].outcome = .updates(taken.map(\.id))
                    return .result(.array(taken.map(\.update)))
                }
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                bot.waiter = PollWaiter(id: id, callIndex: index, limit: granted.limit, continuation: continuation)
                onWait(id, granted.timeout)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        earlier?.resume(returning: .error(status: 409, description: Self.otherPollConflict))
        return answer
    }

    /// Ends a waiting poll with no updates once its `timeout` has passed.
    func expire(botID: String, waiterID: UInt64) {
        let continuation = mutate { state -> CheckedContinuation<Answer, Never>? in
            guard let waiter = state.bots[botID]?.waiter, waiter.id == waiterID else { return nil }
            state.bots[botID]?.waiter = nil
            state.bots[botID]?.calls[waiter.callIndex].outcome = .updates([])
            return waiter.continuation
        }
        continuation?.resume(returning: .result(.array([])))
    }

    /// Ends a waiting poll whose client closed its connection: its answer reaches nobody.
    func abandon(botID: String, waiterID: UInt64) {
        let continuation = mutate { state -> CheckedContinuation<Answer, Never>? in
            guard let waiter = state.bots[botID]?.waiter, waiter.id == waiterID else { return nil }
            state.bots[botID]?.waiter = nil
            state.bots[botID]?.calls[waiter.callIndex].outcome = .abandoned
            return waiter.continuation
        }
        continuation?.resume(returning: .result(.array([])))
    }

    /// Ends every waiting poll with no updates, as the server stops, and answers the polls
    /// that come until ``acceptPolls()`` at once.
    func endAllPolls() {
        let continuations = mutate { state in
            state.stopping = true
            return state.bots.keys.compactMap { botID -> CheckedContinuation<Answer, Never>? in
                guard let waiter = state.bots[botID]?.waiter else { return nil }
                state.bots[botID]?.waiter = nil
                state.bots[botID]?.calls[waiter.callIndex].outcome = .updates([])
                return waiter.continuation
            }
        }
        for continuation in continuations { continuation.resume(returning: .result(.array([]))) }
    }

    /// Lets polls wait for updates again: the server (re)starts.
    func acceptPolls() {
        mutate { $0.stopping = false }
    }

    /// The `timeout` a poll with `offset` gets: the asked one, or more if it repeats the
    /// previous poll's offset.
    func pollTimeout(botID: String, offset: Int64?, asked: Int) -> Int {
        state.withLock { state in
            guard let bot = state.bots[botID] else { return asked }
            return Self.inForce(limit: 1, timeout: asked, offset: offset, bot: bot, now: .now).timeout
        }
    }

    /// The `limit` and `timeout` in force: the same offset again within 0.5 s gets `limit`
    /// 1, and within 3 s a `timeout` under 3 becomes 3 (the real server's guard against
    /// clients that poll one offset in a tight loop).
    private static func inForce(
        limit: Int, timeout: Int, offset: Int64?, bot: Bot, now: ContinuousClock.Instant
    ) -> (
        limit: Int, timeout: Int
    ) {
        guard let last = bot.lastPoll, offset != nil, last.offset == offset else { return (limit, timeout) }
        return (
            now - last.at < repeatedOffsetLimitWindow ? 1 : limit,
            now - last.at < .seconds(repeatedOffsetTimeout) ? max(timeout, repeatedOffsetTimeout) : timeout
        )
    }

    /// Whether the server acts on `offset`: a negative one (the queue's last updates), or
    /// one neither more than 10 past the queue's tail nor more than 2,000,000 behind it.
    /// Others are ignored and updates come from the head, as after an id sequence restart.
    private static func honours(_ offset: Int64, _ bot: Bot) -> Bool {
        offset < 0 || (bot.nextUpdateID - 2_000_000...bot.nextUpdateID + 10).contains(offset)
    }

    /// Numbers the bot's next updates from `firstID` (random when `nil`), as the real server
    /// does when its queue starts again after a week without updates.
    func restartUpdateSequence(botID: String, at firstID: Int64?) {
        mutate { state in state.bots[botID]?.nextUpdateID = firstID ?? Self.randomFirstUpdateID() }
    }

    private static func confirm(_ bot: inout Bot, below offset: Int64) {
        if offset < 0 {
            bot.queue = Array(bot.queue.suffix(Int(-offset)))
        } else {
            bot.queue.removeAll { $0.id < offset }
        }
    }

    private static func answerWaiter(of bot: inout Bot) -> (CheckedContinuation<Answer, Never>, Answer)? {
        guard let waiter = bot.waiter, !bot.queue.isEmpty else { return nil }
        bot.waiter = nil
        let taken = Array(bot.queue.prefix(waiter.limit))
        bot.calls[waiter.callIndex].outcome = .updates(taken.map(\.id))
        return (waiter.continuation, .result(.array(taken.map(\.update))))
    }

    // MARK: - Webhooks and messages

    /// `setWebhook` as a client calls it: with a URL, at most once a second, else 429.
    func setWebhookLimited(
        botID: String, url: String, secret: String? = nil, maxConnections: Int? = nil, allowedUpdates: [String]? = nil
    ) -> Answer {
        let now = ContinuousClock.now
        let tooSoon = mutate { state -> Bool in
            guard !url.isEmpty else { return false }
            if let last = state.bots[botID]?.lastSetWebhook, now - last < .seconds(1) { return true }
            state.bots[botID]?.lastSetWebhook = now
            return false
        }
        if tooSoon { return .error(status: 429, description: "Too Many Requests: retry after 1", retryAfter: 1) }
        if let secret,
            secret.isEmpty || secret.count > 256
                || !secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        {
            return .error(status: 400, description: "Bad Request: secret token contains unallowed characters")
        }
        if let maxConnections, !(1...100).contains(maxConnections) {
            return .error(status: 400, description: "Bad Request: bad webhook: max_connections must be between 1 and 100")
        }
        setWebhook(botID: botID, url: url, secret: secret, maxConnections: maxConnections, allowedUpdates: allowedUpdates)
        return .result(.bool(true))
    }

    func setWebhook(
        botID: String, url: String, secret: String? = nil, maxConnections: Int? = nil, allowedUpdates: [String]? = nil
    ) {
        defer { notifyWebhookWork(botID) }
        let terminated = mutate { state -> CheckedContinuation<Answer, Never>? in
            state.bots[botID]?.webhookURL = url
            state.bots[botID]?.webhook.secret = secret
            state.bots[botID]?.webhook.maxConnections = maxConnections ?? 40
            state.bots[botID]?.webhook.allowedUpdates = allowedUpdates
            guard !url.isEmpty, let waiter = state.bots[botID]?.waiter else { return nil }
            state.bots[botID]?.waiter = nil
            state.bots[botID]?.calls[waiter.callIndex].outcome = .terminatedByOtherPoll
            return waiter.continuation
        }
        terminated?.resume(returning: .error(status: 409, description: "Conflict: terminated by setWebhook request"))
    }

    func deleteWebhook(botID: String, dropPendingUpdates: Bool) {
        mutate { state in
            state.bots[botID]?.webhookURL = ""
            state.bots[botID]?.webhook.retries = [:]
            if dropPendingUpdates { state.bots[botID]?.queue.removeAll() }
        }
    }

    func webhookInfo(botID: String) -> WebhookInfo {
        state.withLock { state in
            let bot = state.bots[botID]
            var info = WebhookInfo(
                url: bot?.webhookURL ?? "", hasCustomCertificate: false, pendingUpdateCount: bot?.queue.count ?? 0)
            if let bot, !bot.webhookURL.isEmpty {
                info.maxConnections = bot.webhook.maxConnections
                info.allowedUpdates = bot.webhook.allowedUpdates
                info.lastErrorMessage = bot.webhook.lastError?.message
                info.lastErrorDate = bot.webhook.lastError?.date
            }
            return info
        }
    }

    // MARK: - Webhook deliveries

    /// Where ``notifyWebhookWork(_:)`` goes: the emulator's ``WebhookPusher``.
    func onWebhookWork(_ notify: @escaping @Sendable (String) -> Void) {
        mutate { $0.onWebhookWork = notify }
    }

    private func notifyWebhookWork(_ botID: String) {
        let notify = state.withLock { $0.onWebhookWork }
        notify?(botID)
    }

    /// What a bot's webhook should post now, at `now`: its URL and secret, the queued
    /// updates to post (marked in flight; at most `max_connections` at once, those waiting
    /// for a retry once their time has come), and when a retry is next due. `nil` when the
    /// bot has no webhook.
    func takeWebhookWork(botID: String, now: ContinuousClock.Instant) -> WebhookWork? {
        mutate { state in
            guard var bot = state.bots[botID], !bot.webhookURL.isEmpty else { return nil }
            defer { state.bots[botID] = bot }
            var posts: [(id: Int64, body: JSONValue)] = []
            var nextRetry: ContinuousClock.Instant?
            for (id, update) in bot.queue where bot.webhook.inFlight.count < bot.webhook.maxConnections {
                guard !bot.webhook.inFlight.contains(id) else { continue }
                if let retry = bot.webhook.retries[id], retry.at > now {
                    nextRetry = min(nextRetry ?? retry.at, retry.at)
                    continue
                }
                bot.webhook.inFlight.insert(id)
                posts.append((id, update))
            }
            return WebhookWork(url: bot.webhookURL, secret: bot.webhook.secret, posts: posts, nextRetry: nextRetry)
        }
    }

    /// How the post of update `id` ended: a 2xx status delivers it (it leaves the queue);
    /// anything else (`status` `nil`: no answer) is tried again after `retryAfter`, or after
    /// a backoff that doubles from ``webhookRetryDelay`` up to ``webhookMaxRetryDelay``.
    func webhookPosted(botID: String, id: Int64, status: Int?, retryAfter: Duration?, error: String?) {
        mutate { state in
            guard var bot = state.bots[botID] else { return }
            defer { state.bots[botID] = bot }
            bot.webhook.inFlight.remove(id)
            bot.webhook.records.append(WebhookDeliveryRecord(updateID: id, status: status, at: .now))
            if let status, (200..<300).contains(status) {
                bot.queue.removeAll { $0.id == id }
                bot.webhook.retries[id] = nil
                return
            }
            let failures = (bot.webhook.retries[id]?.failures ?? 0) + 1
            let backoff = min(Self.webhookRetryDelay * (1 << min(failures - 1, 16)), Self.webhookMaxRetryDelay)
            bot.webhook.retries[id] = (.now + (retryAfter ?? backoff), failures)
            let message = status.map { "Wrong response from the webhook: \($0)" } ?? (error ?? "Connection refused")
            bot.webhook.lastError = (message, Int64(Date().timeIntervalSince1970))
        }
    }

    /// The first wait before a failed webhook delivery is tried again; it doubles with each
    /// failure, up to ``webhookMaxRetryDelay``.
    static let webhookRetryDelay = Duration.milliseconds(100)
    static let webhookMaxRetryDelay = Duration.seconds(2)

    func webhookDeliveries(botID: String) -> [WebhookDeliveryRecord] {
        state.withLock { $0.bots[botID]?.webhook.records ?? [] }
    }

    func recordSent(botID: String, chatID: ChatID, text: String) -> Int64 {
        mutate { state in
            let id = state.bots[botID]?.nextMessageID ?? 1
            state.bots[botID]?.nextMessageID = id + 1
            state.bots[botID]?.sent.append(SentMessage(chatID: chatID, text: text, messageID: id, receivedAt: .now))
            return id
        }
    }

    /// The next message id of the bot's chats (one counter, as the emulator keeps one).
    func nextMessageID(botID: String) -> Int64 {
        mutate { state in
            let id = state.bots[botID]?.nextMessageID ?? 1
            state.bots[botID]?.nextMessageID = id + 1
            return id
        }
    }

    /// The most calls kept per bot: a long sandbox or benchmark run keeps only its latest.
    static let recordedCallLimit = 10_000

    func record(_ call: RecordedCall, botID: String) {
        mutate { state in
            guard state.bots[botID] != nil else { return }
            state.bots[botID]?.recorded.append(call)
            if let count = state.bots[botID]?.recorded.count, count > Self.recordedCallLimit {
                state.bots[botID]?.recorded.removeFirst(count - Self.recordedCallLimit / 2)
            }
        }
    }

    func addChat(botID: String, id: Int64, username: String?) {
        mutate { state in
            state.bots[botID]?.chats.insert(id)
            if let username { state.bots[botID]?.chatUsernames.insert("@" + String(username.lowercased().trimmingPrefix("@"))) }
        }
    }

    func setStrictChats(_ strict: Bool) {
        mutate { $0.strictChats = strict }
    }

    /// Whether the bot may send to `chat`: a `@username` must be known; a numeric id must
    /// not be 0, and in strict mode must have been seen.
    func knowsChat(_ chat: ChatID, botID: String) -> Bool {
        state.withLock { state in
            guard let bot = state.bots[botID] else { return false }
            switch chat {
            case .id(let id): return id != 0 && (!state.strictChats || bot.chats.contains(id) || id == Int64(botID))
            case .username(let name): return bot.chatUsernames.contains(name.lowercased())
            }
        }
    }

    // MARK: - Reading back

    func recordedCalls(botID: String) -> [RecordedCall] {
        state.withLock { $0.bots[botID]?.recorded ?? [] }
    }

    func sentMessages(botID: String) -> [SentMessage] {
        state.withLock { $0.bots[botID]?.sent ?? [] }
    }

    func sentCount(botID: String) -> Int {
        state.withLock { $0.bots[botID]?.sent.count ?? 0 }
    }

    func getUpdatesCalls(botID: String) -> [GetUpdatesCall] {
        state.withLock { $0.bots[botID]?.calls ?? [] }
    }

    func callCount(botID: String, method: String) -> Int {
        state.withLock { $0.bots[botID]?.methodCalls[method] ?? 0 }
    }

    func pendingUpdateIDs(botID: String) -> [Int64] {
        state.withLock { $0.bots[botID]?.queue.map(\.id) ?? [] }
    }

    /// Runs `body` under the lock.
    private func mutate<T>(_ body: (inout State) -> T) -> T {
        state.withLock { body(&$0) }
    }
}

/// Any `Encodable` as a `JSONValue`, for building answers.
func jsonValue(of value: some Encodable) -> JSONValue {
    let data = (try? JSONEncoder().encode(value)) ?? Data("null".utf8)
    return (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
}
