import Testing

@testable import BotHostCore

@Suite struct RepeatedFailuresTests {
    @Test func theFirstOfEachFailureAndThenPowersOfTwoAreLogged() {
        var failures = RepeatedFailures()
        let logged = (1...9).filter { _ in failures.shouldLog("connection refused") }
        #expect(logged == [1, 2, 4, 8])
        let another = failures.shouldLog("502 Bad Gateway")
        let firstAgain = failures.shouldLog("connection refused")
        failures.reset()
        let afterSuccess = failures.shouldLog("connection refused")
        #expect(another, "another failure is logged at once")
        #expect(firstAgain, "and so is the first one again after it")
        #expect(afterSuccess, "a success starts the count again")
    }
}
