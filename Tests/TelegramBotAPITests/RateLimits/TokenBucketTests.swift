import TelegramBotAPI
import Testing

/// The token bucket alone: time is a number passed in, so nothing waits.
@Suite struct TokenBucketTests {
    let perChat = RateLimit(1, per: .seconds(1), burst: 3)

    @Test func aFullBucketLetsItsBurstGoThenOneAnInterval() {
        var bucket = TokenBucket(perChat, at: .zero)
        for _ in 1...3 {
            #expect(bucket.delay(for: 1, at: .zero) == .zero)
            bucket.take(1, at: .zero)
        }
        #expect(bucket.delay(for: 1, at: .zero).isAbout(.seconds(1)))
        #expect(bucket.delay(for: 1, at: .milliseconds(400)).isAbout(.milliseconds(600)))
        #expect(bucket.delay(for: 1, at: .seconds(1)) == .zero)
    }

    @Test func itRefillsNoFurtherThanItsBurst() {
        var bucket = TokenBucket(perChat, at: .zero)
        bucket.take(3, at: .zero)
        #expect(!bucket.isFull(at: .seconds(2)))
        #expect(bucket.isFull(at: .seconds(3)))
        #expect(bucket.tokens(at: .seconds(100)) == 3)
    }

    @Test func moreMessagesThanTheBurstGoWhenItIsFullAndLeaveItInDebt() {
        var bucket = TokenBucket(perChat, at: .zero)
        #expect(bucket.delay(for: 10, at: .zero) == .zero, "an album of ten needs a full bucket, not ten tokens")
        bucket.take(10, at: .zero)
        #expect(bucket.tokens(at: .zero) == -7)
        #expect(bucket.delay(for: 1, at: .zero).isAbout(.seconds(8)))
        #expect(bucket.delay(for: 10, at: .seconds(1)).isAbout(.seconds(9)))
    }

    @Test func callsQueuedAheadAreCountedFirst() {
        let bucket = TokenBucket(perChat, at: .zero)
        #expect(bucket.delay(for: 1, after: 2, at: .zero) == .zero)
        #expect(bucket.delay(for: 1, after: 5, at: .zero).isAbout(.seconds(3)))
    }

    @Test func aGraceLetsAMessageGoThatMuchEarly() {
        var bucket = TokenBucket(perChat, at: .zero)
        bucket.take(3, at: .zero)
        #expect(bucket.delay(for: 1, at: .zero, grace: .milliseconds(250)).isAbout(.milliseconds(750)))
        #expect(bucket.delay(for: 1, at: .milliseconds(750), grace: .milliseconds(250)) == .zero)
    }

    @Test func aGroupGetsTwentyAMinuteAtASteadyPace() {
        var bucket = TokenBucket(RateLimit(20, per: .seconds(60)), at: .zero)
        #expect(bucket.delay(for: 1, at: .zero) == .zero)
        bucket.take(1, at: .zero)
        #expect(bucket.delay(for: 1, at: .zero).isAbout(.seconds(3)), "one every 3 s: never 20 at once")
    }

    @Test func ratesReadAsTheManifestWritesThem() {
        #expect(RateLimit(30, per: .seconds(1)).description == "30/s")
        #expect(perChat.description == "1/s burst 3")
        #expect(RateLimit(20, per: .seconds(60)).description == "20/m")
        #expect(RateLimit(5, per: .seconds(10)).description == "5/10s")
        #expect(RateLimit(20, per: .seconds(60)).perSecond == 1.0 / 3)
    }
}
