import Testing

@testable import BotHostCore

@Suite struct RestartIntensityTests {
    @Test func restartsWaitLongerEachTimeUntilOneCrashTooMany() {
        var restarts = RestartIntensity(intensity: 5, period: .seconds(60))
        let start = ContinuousClock.now
        let delays = (0..<5).map { restarts.crashed(at: start + .seconds($0)) }
        #expect(delays == [.zero, .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(restarts.crashed(at: start + .seconds(5)) == nil, "the sixth crash within a minute is a crash loop")
    }

    @Test func crashesOlderThanThePeriodAreForgotten() {
        var restarts = RestartIntensity(intensity: 2, period: .seconds(10))
        let start = ContinuousClock.now
        #expect(restarts.crashed(at: start) == .zero)
        #expect(restarts.crashed(at: start + .seconds(5)) == .milliseconds(50))
        #expect(restarts.crashed(at: start + .seconds(12)) == .milliseconds(50), "the first crash has left the window")
        #expect(restarts.recentCrashes == 2)
        #expect(restarts.crashed(at: start + .seconds(13)) == nil)
    }

    @Test func intensityZeroFailsAtTheFirstCrash() {
        var restarts = RestartIntensity(intensity: 0, period: .seconds(60))
        #expect(restarts.crashed(at: .now) == nil)
    }
}
