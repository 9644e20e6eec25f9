import Testing

@testable import BotHostCore

@Suite struct RepeatedFailuresTests {
    @Test func theFirstOfEachFailureAndThenPowersOfTwoAreLogged() {
        var failures = RepeatedFailures()
        let logged = (1...9).filter { _ in failures.shouldLog("connection refused") }
        #expect(logged == [1, 2, 4, 8])
        #expect(failures.shouldLog("502 Bad Gateway"), "another failure is logged at once")
        #expect(failures.shouldLog("connection refused"), "and so is the first one again after it")
        failures.reset()
        #expect(failures.shouldLog("connection refused"), "a success starts the count again")
    }
}
