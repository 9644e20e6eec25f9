/// One bot's rate limiter as a state machine, apart from clocks and tasks: its token
/// buckets (the bot's, each chat's, each group's), the pauses Telegram's 429s asked for,
/// and the calls waiting for either. It is told the time and says which calls may go and
/// when to look again; ``RateLimiter`` does the waiting and waking.
///
/// Who goes first, whenever tokens free up:
/// - replies before bulk calls (``SendPriority``), each in the order they came;
/// - a call held back by its chat (its chat's or group's tokens, or a pause of that chat)
///   holds back only the later calls of that chat: every other chat's calls go past it;
/// - a call held back by the bot's own tokens holds back every later call that sends
///   messages, so replies are not overtaken by bulk calls of other chats;
/// - calls that send no messages (`getChat`, `answerCallbackQuery`) wait only for a pause.
///
/// A call whose wait would pass `maxWait` is refused when it comes (the estimate counts the
/// calls ahead of it), and one still waiting at `maxWait` leaves the queue as expired.
package struct SendQueue: Sendable {
    /// A call waiting to go.
    package struct Call: Sendable {
        package let id: UInt64
        package let messages: OutgoingMessages
        package let priority: SendPriority
        /// When it came.
        package let arrived: Duration

        package init(id: UInt64, messages: OutgoingMessages, priority: SendPriority, arrived: Duration) {
            self.id = id
            self.messages = messages
            self.priority = priority
            self.arrived = arrived
        }
    }

    /// What a scan of the queue decided.
    package struct Release: Sendable, Equatable {
        /// Calls that may go now, each with how long it waited.
        package var granted: [Granted] = []
        /// Calls that waited `maxWait` in vain.
        package var expired: [UInt64] = []
        /// When to scan again, if calls are left waiting.
        package var wake: Duration?

        package struct Granted: Sendable, Equatable {
            package var id: UInt64
            package var waited: Duration
        }
    }

    /// How ``admit(_:at:)`` took a call.
    package enum Admission: Sendable, Equatable {
        /// Queued; the release says whether it (and maybe others) may go now.
        case queued(Release)
        /// Not queued: it would wait about this long, more than `maxWait`.
        case refused(wait: Duration)
    }

    private let maxWait: Duration
    private var buckets: RateLimitBuckets
    /// Until when each chat is paused by a 429.
    private var chatPauses: [ChatID: Duration] = [:]
    /// Until when the whole bot is paused by a 429 on a call without a chat.
    private var botPause = Duration.zero
    /// Waiting replies, then waiting bulk calls, each in the order they came.
    private var replies: [Call] = []
    private var bulk: [Call] = []

    /// Forget pauses that are over once this many chats have one.
    private static let prunePausesAt = 1024

    package init(limits: RateLimits, maxWait: Duration, at now: Duration) {
        self.maxWait = maxWait
        buckets = RateLimitBuckets(limits, at: now)
    }

    /// Calls waiting now.
    package var count: Int { replies.count + bulk.count }

    /// Chats with a bucket now: the limiter's memory, for tests.
    package var rememberedChats: Int { buckets.rememberedChats }

    /// Queues `call`, unless its wait would pass `maxWait`, and scans the queue. With
    /// nothing waiting, a call that may go goes without being queued.
    package mutating func admit(_ call: Call, at now: Duration) -> Admission {
        if count == 0, botPause <= now {
            var scan = Scan()
            if case .go = hold(call, scan: &scan, at: now) {
                buckets.take(call.messages, at: now)
                return .queued(Release(granted: [.init(id: call.id, waited: .zero)]))
            }
        }
        let wait = estimatedWait(of: call, at: now)
        guard wait <= maxWait else { return .refused(wait: wait) }
        switch call.priority {
        case .reply: replies.append(call)
        case .bulk: bulk.append(call)
        }
        return .queued(release(at: now))
    }

    /// Takes a waiting call out (its task was cancelled); whether it was there.
    @discardableResult
    package mutating func remove(_ id: UInt64) -> Bool {
        if let index = replies.firstIndex(where: { $0.id == id }) {
            replies.remove(at: index)
        } else if let index = bulk.firstIndex(where: { $0.id == id }) {
            bulk.remove(at: index)
        } else {
            return false
        }
        return true
    }

    /// Telegram answered 429 with `retryAfter`: pauses `chat`, or the whole bot for a call
    /// without one; its buckets start again with one token at the pause's end.
    package mutating func pause(_ chat: ChatID?, for retryAfter: Duration, at now: Duration) {
        let until: Duration
        if let chat {
            if chatPauses.count >= Self.prunePausesAt { chatPauses = chatPauses.filter { $0.value > now } }
            until = max(chatPauses[chat] ?? .zero, now + retryAfter)
            chatPauses[chat] = until
        } else {
            until = max(botPause, now + retryAfter)
            botPause = until
        }
        buckets.restart(chat, at: until)
    }

    /// Lets go every waiting call that may go at `now`, in the order the type's
    /// documentation gives, and expires those that waited `maxWait`.
    package mutating func release(at now: Duration) -> Release {
        var release = Release()
        var scan = Scan()
        let botPaused = botPause > now
        if botPaused { release.wake = botPause }
        for priority in SendPriority.allCases {
            var kept: [Call] = []
            for call in priority == .reply ? replies : bulk {
                let deadline = call.arrived + maxWait
                if deadline <= now {
                    release.expired.append(call.id)
                    continue
                }
                let hold: Hold = botPaused ? .behind : self.hold(call, scan: &scan, at: now)
                switch hold {
                case .go:
                    buckets.take(call.messages, at: now)
                    release.granted.append(.init(id: call.id, waited: now - call.arrived))
                    continue
                case .until(let time):
                    release.wake = min(release.wake ?? time, time)
                case .behind:
                    break
                }
                release.wake = min(release.wake ?? deadline, deadline)
                kept.append(call)
            }
            switch priority {
            case .reply: replies = kept
            case .bulk: bulk = kept
            }
        }
        return release
    }

    // MARK: - Holding calls back

    /// What one scan has found held back so far.
    private struct Scan {
        /// Chats with a call held back: their later calls wait behind it.
        var blockedChats: Set<ChatID> = []
        /// A call is held back by the bot's own tokens: every later call that sends messages waits.
        var botBlocked = false
    }

    private enum Hold {
        case go
        /// Held back until then.
        case until(Duration)
        /// Held back behind another call, which wakes the scan.
        case behind
    }

    private func hold(_ call: Call, scan: inout Scan, at now: Duration) -> Hold {
        let messages = call.messages
        if let chat = messages.chat, let until = chatPauses[chat], until > now {
            if messages.count > 0 { scan.blockedChats.insert(chat) }
            return .until(until)
        }
        guard messages.count > 0, let chat = messages.chat else { return .go }
        if scan.blockedChats.contains(chat) { return .behind }
        let chatDelay = buckets.chatDelay(for: messages, at: now)
        if chatDelay > .zero {
            scan.blockedChats.insert(chat)
            return .until(now + chatDelay)
        }
        if scan.botBlocked { return .behind }
        let botDelay = buckets.botDelay(for: messages, at: now)
        if botDelay > .zero {
            scan.botBlocked = true
            return .until(now + botDelay)
        }
        return .go
    }

    /// How long `call` would wait if it came now: the pauses in its way, and the tokens
    /// its chat, group and bot need for the calls queued ahead of it and for it.
    private func estimatedWait(of call: Call, at now: Duration) -> Duration {
        let messages = call.messages
        var wait = max(.zero, botPause - now)
        guard let chat = messages.chat else { return wait }
        wait = max(wait, (chatPauses[chat] ?? .zero) - now)
        guard messages.count > 0 else { return wait }
        var chatAhead = 0
        var botAhead = 0
        for queued in call.priority == .reply ? replies : replies + bulk {
            botAhead += queued.messages.count
            if queued.messages.chat == chat { chatAhead += queued.messages.count }
        }
        return max(
            wait, buckets.chatDelay(for: messages, after: chatAhead, at: now),
            buckets.botDelay(for: messages, after: botAhead, at: now))
    }
}
