import BotAPIEmulator
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import Prometheus

/// The operator's window into a running host, on `admin.listen` (loopback by default):
///
/// - `GET /health`: 200 while the host runs, with each bot's state, retries and last
///   error (never a token);
/// - `GET /ready`: 200 once every bot that should poll is polling or standing by, 503
///   before;
/// - `GET /metrics`: Prometheus text format, the worker processes' metrics included.
///
/// The host's service group runs it; the fleet awaits its port before taking any lock, so
/// a port in use stops the host before anything started.
enum AdminServer {
    static func server(
        listen: AdminSettings, report: HostReport, registry: PrometheusCollectorRegistry,
        workerMetrics: @escaping @Sendable () -> [String], logger: Logger
    )
        -> HTTPServer
    {
        let router = Router()
        router.get("/health") { _, _ in
            json(report.health(), status: .ok)
        }
        router.get("/ready") { _, _ in
            let readiness = report.readiness()
            return json(readiness.body, status: readiness.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            let workers = workerMetrics()
            let text =
                workers.isEmpty ? buffer : Array(PrometheusText.merge([String(decoding: buffer, as: UTF8.self)] + workers).utf8)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return HTTPServer(
            name: "the admin server", router: router, host: listen.host, port: listen.port,
            logger: Logger(label: "bothost.admin") { _ in SwiftLogNoOpLogHandler() },
            onListening: { port in
                logger.info("admin listening on http://\(listen.host):\(port) (/health, /ready, /metrics)")
            })
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
