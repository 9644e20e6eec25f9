import Logging
import ServiceLifecycle

/// A host's service whose failure is logged the moment it happens.
///
/// A failing service stops the others as SIGTERM does (see ``Host``): the bots drain and
/// run their hooks, which may take up to `shutdown.timeout`. The service group hands the
/// first error back only once that stop is over, so the reason for a stop would otherwise
/// be the last line of it. It then throws a ``ReportedFailure``, which the host does not
/// log again. Every failure is logged as it happens, also one during the stop (which the
/// group would drop, keeping only the first), such as a server's error once a stop that
/// overran `shutdown.timeout` cancelled it.
struct FailureReportingService: Service {
    let service: any Service
    let logger: Logger

    func run() async throws {
        do {
            try await service.run()
        } catch let cancellation as CancellationError {
            throw cancellation
        } catch {
            logger.error("\(error)")
            throw ReportedFailure(error: error)
        }
    }
}

/// A service's error that ``FailureReportingService`` has logged already.
struct ReportedFailure: Error, CustomStringConvertible {
    let error: any Error

    var description: String { "\(error)" }
}
