import BotHostTesting
import Logging
import ServiceLifecycle
import Testing

@testable import BotHostCore

/// A failing service's error is logged when it fails, before the stop it causes is over,
/// and once.
@Suite struct FailureReportingServiceTests {
    struct ListenerGone: Error, CustomStringConvertible {
        var description: String { "the listener went away" }
    }

    struct Failing: Service {
        func run() async throws { throw ListenerGone() }
    }

    /// Stops only when `release` opens, after the group's graceful stop began.
    struct SlowToStop: Service {
        let release: Latch

        func run() async throws {
            try await gracefulShutdown()
            await release.wait()
        }
    }

    @Test func theErrorIsLoggedBeforeTheOthersHaveStopped() async throws {
        let logs = LogCapture()
        let logger = logs.logger(label: "test")
        let release = Latch()
        let services: [any Service] = [SlowToStop(release: release), Failing()]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(
                        service: FailureReportingService(service: $0, logger: logger),
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                logger: Logger(label: "lifecycle") { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }

        // The group cannot end while the latch is shut: the slow service is still stopping.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while release.entered.isEmpty && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(release.entered.count == 1, "the failure began the group's stop")
        #expect(logs.lines.filter { $0.contains("the listener went away") }.count == 1)

        release.open()
        await #expect(throws: ReportedFailure.self) { try await running.value }
        #expect(logs.lines.filter { $0.contains("the listener went away") }.count == 1)
    }
}
