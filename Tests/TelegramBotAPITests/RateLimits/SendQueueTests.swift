import TelegramBotAPI
import Testing

/// The limiter's state machine: who goes when, told the time by the test.
@Suite struct SendQueueTests {
    /// A queue with Telegram's limits (30/s per bot, 1/s burst 3 per chat, 20/m per group),
    /// the bot's and the groups' with a burst of their rate, so that the chat rules show
    /// alone at time zero.
    func telegram(maxWait: Duration = .seconds(60)) -> Queue {
        Queue(SendQueue(limits: .telegramWithBursts, maxWait: maxWait, at: .zero))
    }

    @Test func byDefaultTheBotSendsAtASteadyPace() {
        let queue = Queue(SendQueue(limits: .telegram, maxWait: .seconds(60), at: .zero))
        #expect(queue.admit(message(1, chat: 1, .bulk), at: .zero).granted == [1])
        let second = queue.admit(message(2, chat: 2, .bulk), at: .zero)
        #expect(second.wake.map { $0.isAbout(.seconds(1) / 30) } == true, "30 a second, not 30 at once")
        for id in 3...31 { _ = queue.admit(message(id, chat: Int64(id), .bulk), at: .zero) }
        var sent = 1
        for tick in 1...30 { sent += queue.release(at: .seconds(1) / 30 * tick).granted.count }
        #expect(sent == 31, "at most 31 within the first second")
        #expect(queue.count == 0)
    }

    @Test func aChatOverItsBudgetHoldsBackOnlyItself() {
        let queue = telegram()
        for id in 1...3 { #expect(queue.admit(message(id, chat: 1), at: .zero).granted == [id]) }
        let fourth = queue.admit(message(4, chat: 1), at: .zero)
        #expect(fourth.granted.isEmpty)
        #expect(fourth.wake.map { $0.isAbout(.seconds(1)) } == true)
        #expect(queue.admit(message(5, chat: 1), at: .milliseconds(100)).granted.isEmpty)
        #expect(queue.admit(message(6, chat: 2), at: .milliseconds(100)).granted == [6], "another chat goes past")

        let second = queue.release(at: .seconds(1))
        #expect(second.granted.map(\.id) == [4])
        #expect(second.granted.first?.waited == .seconds(1))
        #expect(queue.release(at: .seconds(2)).granted.map(\.id) == [5])
        #expect(queue.count == 0)
    }

    @Test func repliesGoBeforeBulkCallsWhenTheBotIsOverItsRate() {
        let queue = telegram()
        for id in 1...30 {
            #expect(queue.admit(message(id, chat: Int64(id), .bulk), at: .zero).granted == [id], "the bot's burst")
        }
        #expect(queue.admit(message(31, chat: 31, .bulk), at: .zero).granted.isEmpty)
        #expect(queue.admit(message(32, chat: 32, .bulk), at: .zero).granted.isEmpty)
        #expect(queue.admit(message(33, chat: 33, .reply), at: .milliseconds(10)).granted.isEmpty)

        let tick = Duration.seconds(1) / 30
        #expect(queue.release(at: tick).granted.map(\.id) == [33], "the reply came last and goes first")
        #expect(queue.release(at: tick * 2).granted.map(\.id) == [31])
        #expect(queue.release(at: tick * 3).granted.map(\.id) == [32])
    }

    @Test func aReplyInAChatGoesBeforeThatChatsBulkCalls() {
        let queue = telegram()
        for id in 1...3 { _ = queue.admit(message(id, chat: 1, .bulk), at: .zero) }
        _ = queue.admit(message(4, chat: 1, .bulk), at: .zero)
        _ = queue.admit(message(5, chat: 1, .reply), at: .zero)
        #expect(queue.release(at: .seconds(1)).granted.map(\.id) == [5])
        #expect(queue.release(at: .seconds(2)).granted.map(\.id) == [4])
    }

    @Test func aChatsMessagesKeepTheirOrder() {
        let queue = telegram()
        for id in 1...3 { _ = queue.admit(message(id, chat: 1), at: .zero) }
        #expect(queue.admit(message(4, chat: 1, count: 2), at: .zero).granted.isEmpty)
        #expect(queue.admit(message(5, chat: 1), at: .zero).granted.isEmpty)
        #expect(queue.release(at: .seconds(1)).granted.isEmpty, "one token is enough for the later call, not the album")
        #expect(queue.release(at: .seconds(2)).granted.map(\.id) == [4])
        #expect(queue.release(at: .seconds(3)).granted.map(\.id) == [5])
    }

    @Test func aPauseHoldsOnlyItsChat() {
        let queue = telegram()
        queue.pause(.id(1), for: .seconds(5), at: .zero)
        let held = queue.admit(message(1, chat: 1), at: .zero)
        #expect(held.granted.isEmpty)
        #expect(held.wake == .seconds(5))
        #expect(queue.admit(message(2, chat: 2), at: .zero).granted == [2])
        #expect(queue.admit(message(3, chat: nil), at: .zero).granted == [3], "a call without a chat goes too")
        #expect(queue.release(at: .seconds(4)).granted.isEmpty)
        #expect(queue.release(at: .seconds(5)).granted.map(\.id) == [1])
    }

    @Test func afterAPauseTheChatGoesAtItsRateNotInABurst() {
        let queue = telegram()
        queue.pause(.id(1), for: .seconds(5), at: .zero)
        for id in 1...3 { _ = queue.admit(message(id, chat: 1), at: .seconds(1)) }
        #expect(queue.release(at: .seconds(5)).granted.map(\.id) == [1], "the call that met the 429 goes again")
        #expect(queue.release(at: .milliseconds(5_900)).granted.isEmpty, "no burst of 3 after it")
        #expect(queue.release(at: .seconds(6)).granted.map(\.id) == [2])
        #expect(queue.release(at: .seconds(7)).granted.map(\.id) == [3])
    }

    @Test func aPauseWithoutAChatHoldsTheWholeBot() {
        let queue = telegram()
        queue.pause(nil, for: .seconds(3), at: .zero)
        #expect(queue.admit(message(1, chat: 1), at: .zero).granted.isEmpty)
        #expect(queue.admit(message(2, chat: nil), at: .zero).granted.isEmpty)
        #expect(queue.release(at: .seconds(3)).granted.map(\.id) == [1, 2])
    }

    @Test func aCallThatWouldWaitPastTheMaxWaitIsRefusedAtOnce() {
        let queue = telegram(maxWait: .seconds(10))
        for id in 1...13 { #expect(queue.admit(message(id, chat: 1), at: .zero).isQueued) }
        guard case .refused(let wait) = queue.admit(message(14, chat: 1), at: .zero) else {
            Issue.record("the 14th message would wait 11 s")
            return
        }
        #expect(wait.isAbout(.seconds(11)))
        #expect(queue.admit(message(15, chat: 2), at: .zero).granted == [15], "another chat is not refused")
        queue.pause(.id(3), for: .seconds(30), at: .zero)
        #expect(!queue.admit(message(16, chat: 3), at: .zero).isQueued, "nor waits out a longer pause")
    }

    @Test func aCallStillWaitingAtTheMaxWaitExpires() {
        let queue = telegram(maxWait: .seconds(2))
        for id in 1...3 { _ = queue.admit(message(id, chat: 1), at: .zero) }
        #expect(queue.admit(message(4, chat: 1), at: .zero).isQueued)
        queue.pause(.id(1), for: .seconds(10), at: .milliseconds(500))
        let release = queue.release(at: .seconds(1))
        #expect(release.granted.isEmpty)
        #expect(release.wake == .seconds(2), "it wakes at the call's deadline")
        #expect(queue.release(at: .seconds(2)).expired == [4])
        #expect(queue.count == 0)
    }

    @Test func aGroupKeepsTheGroupLimitOnTop() {
        let queue = Queue(
            SendQueue(
                limits: RateLimits(perBot: nil, perChat: nil, perGroup: RateLimit(20, per: .seconds(60), burst: 20)),
                maxWait: .seconds(60), at: .zero))
        for id in 1...20 { #expect(queue.admit(message(id, chat: -100), at: .zero).granted == [id]) }
        let held = queue.admit(message(21, chat: -100), at: .zero)
        #expect(held.wake.map { $0.isAbout(.seconds(3)) } == true)
        for id in 22...50 { #expect(queue.admit(message(id, chat: 7), at: .zero).granted == [id], "a private chat is no group") }
        let channel = SendQueue.Call(
            id: 51, messages: OutgoingMessages(chat: .username("@news"), count: 1), priority: .reply, arrived: .zero)
        #expect(queue.admit(channel, at: .zero).granted == [51], "a channel by name has a group budget of its own")
    }

    @Test func anAlbumCountsEachItem() {
        let queue = telegram()
        #expect(queue.admit(message(1, chat: 1, count: 10), at: .zero).granted == [1])
        let next = queue.admit(message(2, chat: 1), at: .zero)
        #expect(next.wake.map { $0.isAbout(.seconds(8)) } == true)
    }

    @Test func aCancelledCallNoLongerHoldsItsChat() {
        let queue = telegram()
        for id in 1...3 { _ = queue.admit(message(id, chat: 1), at: .zero) }
        _ = queue.admit(message(4, chat: 1, count: 3), at: .zero)
        _ = queue.admit(message(5, chat: 1), at: .zero)
        #expect(queue.remove(4))
        #expect(!queue.remove(4))
        #expect(queue.release(at: .seconds(1)).granted.map(\.id) == [5])
    }

    @Test func fullBucketsAreForgotten() {
        let queue = telegram()
        var id = 0
        for round in 0..<10 {
            for chat in 0..<1000 {
                id += 1
                let now = Duration.seconds(round * 100)
                _ = queue.admit(message(id, chat: Int64(round * 1000 + chat), .bulk, arrived: now), at: now)
                _ = queue.release(at: .seconds(round * 100 + 50))
            }
        }
        #expect(queue.rememberedChats > 0)
        #expect(queue.rememberedChats <= 2048, "10,000 chats written to, \(queue.rememberedChats) remembered")
    }

    private func message(
        _ id: Int, chat: Int64?, count: Int = 1, _ priority: SendPriority = .reply, arrived: Duration = .zero
    ) -> SendQueue.Call {
        SendQueue.Call(
            id: UInt64(id), messages: OutgoingMessages(chat: chat.map(ChatID.id), count: chat == nil ? 0 : count),
            priority: priority, arrived: arrived)
    }
}

/// A queue the test drives: a reference, so that `#expect` can call its mutating methods.
final class Queue {
    private var queue: SendQueue

    init(_ queue: SendQueue) {
        self.queue = queue
    }

    var count: Int { queue.count }
    var rememberedChats: Int { queue.rememberedChats }

    func admit(_ call: SendQueue.Call, at now: Duration) -> SendQueue.Admission { queue.admit(call, at: now) }
    func release(at now: Duration) -> SendQueue.Release { queue.release(at: now) }
    func remove(_ id: UInt64) -> Bool { queue.remove(id) }
    func pause(_ chat: ChatID?, for retryAfter: Duration, at now: Duration) { queue.pause(chat, for: retryAfter, at: now) }
}

extension SendQueue.Admission {
    /// The calls this admission let go.
    var granted: [Int] {
        if case .queued(let release) = self { release.granted.map { Int($0.id) } } else { [] }
    }

    var wake: Duration? {
        if case .queued(let release) = self { release.wake } else { nil }
    }

    var isQueued: Bool {
        if case .queued = self { true } else { false }
    }
}
