/// The token buckets of one bot's ``RateLimits``: the bot's own, one per chat, and one
/// per group on top. The bot's limiter keeps them to hold calls back; the emulator keeps
/// them to answer 429 past Telegram's limits.
///
/// A chat's bucket exists only while it is not full (a full one is as good as a new one),
/// so a bot that wrote to a million chats remembers only those it wrote to lately.
package struct RateLimitBuckets: Sendable {
    private let limits: RateLimits
    private var bot: TokenBucket?
    private var chats: [ChatID: TokenBucket] = [:]
    private var groups: [ChatID: TokenBucket] = [:]
    /// Forget full buckets once this many chats have one.
    private var pruneAt = RateLimitBuckets.smallestPrune

    private static let smallestPrune = 1024

    package init(_ limits: RateLimits, at now: Duration) {
        self.limits = limits
        bot = limits.perBot.map { TokenBucket($0, at: now) }
    }

    /// Chats with a bucket now.
    package var rememberedChats: Int { Set(chats.keys).union(groups.keys).count }

    /// How long until `messages` may go as far as their chat (and group) allow, once
    /// `ahead` messages to that chat queued before them have gone. Zero: now.
    package func chatDelay(
        for messages: OutgoingMessages, after ahead: Int = 0, at now: Duration, grace: Duration = .zero
    ) -> Duration {
        guard messages.count > 0, let chat = messages.chat else { return .zero }
        let chatDelay = chatBucket(chat, at: now)?.delay(for: messages.count, after: ahead, at: now, grace: grace)
        let groupDelay = groupBucket(messages, at: now)?.delay(for: messages.count, after: ahead, at: now, grace: grace)
        return max(chatDelay ?? .zero, groupDelay ?? .zero)
    }

    /// How long until `messages` may go as far as the bot's own limit allows, once
    /// `ahead` messages queued before them have gone. Zero: now.
    package func botDelay(
        for messages: OutgoingMessages, after ahead: Int = 0, at now: Duration, grace: Duration = .zero
    ) -> Duration {
        guard messages.count > 0, messages.chat != nil, let bot else { return .zero }
        return bot.delay(for: messages.count, after: ahead, at: now, grace: grace)
    }

    /// Counts `messages` as sent at `now`.
    package mutating func take(_ messages: OutgoingMessages, at now: Duration) {
        guard messages.count > 0, let chat = messages.chat else { return }
        bot?.take(messages.count, at: now)
        if var bucket = chatBucket(chat, at: now) {
            bucket.take(messages.count, at: now)
            chats[chat] = bucket
        }
        if var bucket = groupBucket(messages, at: now) {
            bucket.take(messages.count, at: now)
            groups[chat] = bucket
        }
        if chats.count + groups.count >= pruneAt {
            chats = chats.filter { !$0.value.isFull(at: now) }
            groups = groups.filter { !$0.value.isFull(at: now) }
            pruneAt = max(Self.smallestPrune, 2 * (chats.count + groups.count))
        }
    }

    /// Telegram answered 429 to a call for `chat` (`nil`: a call without a chat, which
    /// concerns the whole bot) and asked for a pause until `until`: the chat's buckets (or
    /// the bot's) start again then with one token, so that the messages after the pause go
    /// at the rate rather than in a burst that meets another 429.
    package mutating func restart(_ chat: ChatID?, at until: Duration) {
        guard let chat else {
            bot?.restart(at: until)
            return
        }
        if var bucket = chatBucket(chat, at: until) {
            bucket.restart(at: until)
            chats[chat] = bucket
        }
        if var bucket = groups[chat] {
            bucket.restart(at: until)
            groups[chat] = bucket
        }
    }

    private func chatBucket(_ chat: ChatID, at now: Duration) -> TokenBucket? {
        chats[chat] ?? limits.perChat.map { TokenBucket($0, at: now) }
    }

    private func groupBucket(_ messages: OutgoingMessages, at now: Duration) -> TokenBucket? {
        guard messages.isGroup, let chat = messages.chat else { return nil }
        return groups[chat] ?? limits.perGroup.map { TokenBucket($0, at: now) }
    }
}
