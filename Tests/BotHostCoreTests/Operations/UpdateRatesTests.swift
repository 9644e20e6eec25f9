import BotHostKit
import Synchronization
import Testing

@testable import BotHostCore

@Suite struct UpdateRatesTests {
    /// Handled counts the test sets, by bot.
    final class Counts: Sendable {
        let handled = Mutex<[String: Int]>([:])

        var statuses: [(name: String, snapshot: BotStatus.Snapshot)] {
            handled.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, BotStatus.Snapshot(updatesHandled: $0.value)) }
        }
    }

    @Test func ratesPerIntervalAndLately() {
        let counts = Counts()
        let rates = UpdateRates(statuses: { counts.statuses })
        let start = ContinuousClock.now
        counts.handled.withLock { $0 = ["a": 0, "b": 100] }
        rates.sample(at: start)
        counts.handled.withLock { $0 = ["a": 50, "b": 100] }
        rates.sample(at: start + .seconds(5))
        counts.handled.withLock { $0 = ["a": 60, "b": 10] }
        rates.sample(at: start + .seconds(10))

        #expect(rates.history().bots == ["a": [10, 2], "b": [0, 2]], "a count that went down counts from zero")
        #expect(rates.history().intervalSeconds == 5)
        #expect(rates.perSecond("a", handled: 80, at: start + .seconds(15)) == 4, "since the sample an interval old")
        #expect(rates.perSecond("a", handled: 83, at: start + .seconds(10.5)) == 6, "since the sample before the last")
        #expect(rates.perSecond("unknown", handled: 10, at: start + .seconds(12)) == 0)
    }

    @Test func keepsFiveMinutesAndForgetsBotsThatAreGone() {
        let counts = Counts()
        let rates = UpdateRates(statuses: { counts.statuses })
        let start = ContinuousClock.now
        for sample in 0..<(UpdateRates.capacity + 10) {
            counts.handled.withLock { $0 = ["a": sample * 5, "gone": 0] }
            rates.sample(at: start + .seconds(5 * sample))
        }
        #expect(rates.history().bots["a"]?.count == UpdateRates.capacity - 1)
        #expect(rates.history().bots["a"]?.allSatisfy { $0 == 1 } == true)
        counts.handled.withLock { $0 = ["a": 0] }
        rates.sample(at: start + .seconds(5 * (UpdateRates.capacity + 10)))
        #expect(rates.history().bots["gone"] == nil)
    }
}
