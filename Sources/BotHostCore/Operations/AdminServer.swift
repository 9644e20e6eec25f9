import BotAPIEmulator
import BotHostKit
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The operator's window into a running host, on `admin.listen` (loopback by default):
///
/// - `GET /health`: 200 while the host runs, with each bot's state, retries and last
///   error (never a token);
/// - `GET /ready`: 200 once every bot that should poll is polling, standing by or paused,
///   503 before;
/// - `GET /metrics`: Prometheus text format, the worker processes' metrics included;
/// - `GET /`: the dashboard (``DashboardPage``), which reads `GET /bots` and `GET /rates`;
/// - the control API (``FleetControl``): `GET /bots`, `GET /rates`, `GET /dead-letters`,
///   and the changes, each behind ``ControlAuthorization``: `POST /bots/NAME/pause`,
///   `/resume`, `/restart`, `POST /dead-letters/ID/replay`, `POST /reload`.
///
/// The host's service group runs it; the fleet awaits its port before taking any lock, so
/// a port in use stops the host before anything started.
enum AdminServer {
    static func server(
        listen: AdminSettings, report: HostReport, control: FleetControl, metrics: HostMetrics,
        workerMetrics: @escaping @Sendable () async -> [String], logger: Logger
    )
        -> HTTPServer
    {
        let router = Router(context: AdminRequestContext.self)
        router.get("/") { _, _ in DashboardPage.response }
        router.get("/health") { _, _ in
            json(report.health(), status: .ok)
        }
        router.get("/ready") { _, _ in
            let readiness = report.readiness()
            return json(readiness.body, status: readiness.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            let text = PrometheusText.merge([metrics.text()] + (await workerMetrics()))
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/bots") { _, _ in json(control.bots(), status: .ok) }
        router.get("/rates") { _, _ in json(control.rates.history(), status: .ok) }
        router.get("/dead-letters") { _, _ in
            await answer { () throws(FleetControl.Refusal) in try await control.deadLetters() }
        }

        let changes = router.group().add(middleware: ControlAuthorization(token: listen.token, logger: logger))
        changes.post("/bots/:name/pause") { _, context in
            await answer { () throws(FleetControl.Refusal) in try await control.pause(name(context), by: context.peer) }
        }
        changes.post("/bots/:name/resume") { _, context in
            await answer { () throws(FleetControl.Refusal) in try await control.resume(name(context), by: context.peer) }
        }
        changes.post("/bots/:name/restart") { _, context in
            await answer(status: .accepted) { () throws(FleetControl.Refusal) in
                try await control.restart(name(context), by: context.peer)
            }
        }
        changes.post("/dead-letters/:id/replay") { _, context in
            let id = context.parameters.get("id") ?? ""
            return await answer { () throws(FleetControl.Refusal) in
                try await control.replay(id, by: context.peer)
                return ["replayed": id]
            }
        }
        changes.post("/reload") { _, context in
            await answer { () throws(FleetControl.Refusal) in try await control.reload(by: context.peer) }
        }
        return HTTPServer(
            name: "the admin server", router: router, host: listen.host, port: listen.port,
            logger: Logger(label: "bothost.admin") { _ in SwiftLogNoOpLogHandler() },
            onListening: { port in
                logger.info("admin listening on http://\(listen.host):\(port) (/, /health, /ready, /metrics, /bots)")
            })
    }

    private static func name(_ context: AdminRequestContext) -> String {
        context.parameters.get("name") ?? ""
    }

    /// The value `body` returns as JSON with `status`, or its refusal as an error answer.
    private static func answer(
        status: HTTPResponse.Status = .ok, _ body: () async throws(FleetControl.Refusal) -> (some Encodable)?
    ) async -> Response {
        do {
            guard let value = try await body() else { return error("the bot is no longer hosted here", status: .notFound) }
            return json(value, status: status)
        } catch {
            return Self.error(error.description, status: error.status, problems: error.problems)
        }
    }

    /// A control API error: `{"error": "…"}`, with the manifest's problems for a reload.
    static func error(_ message: String, status: HTTPResponse.Status, problems: [String]? = nil) -> Response {
        json(ControlError(error: message, problems: problems), status: status)
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// What the control API answers when it does not do what was asked, and what
/// `bothost ctl` prints of it.
struct ControlError: Codable, Sendable {
    var error: String
    /// The manifest's problems, when a reload found it invalid.
    var problems: [String]?
}

extension FleetControl.Refusal {
    var status: HTTPResponse.Status {
        switch self {
        case .unknownBot, .unknownDeadLetter: .notFound
        case .notRunning: .conflict
        case .invalidManifest: .unprocessableContent
        case .notNow: .serviceUnavailable
        case .failed: .internalServerError
        }
    }

    var problems: [String]? {
        if case .invalidManifest(let problems) = self { return problems }
        return nil
    }
}
