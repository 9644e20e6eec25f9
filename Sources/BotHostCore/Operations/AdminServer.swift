import BotHostKit
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import Synchronization

/// The operator's window into a running host, on `admin.listen` (loopback by default):
///
/// - `GET /health`: 200 while the host runs, with each bot's state, retries and last
///   error (never a token);
/// - `GET /ready`: 200 once every bot that should poll is polling or standing by, 503
///   before;
/// - `GET /metrics`: Prometheus text format.
final class AdminServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    static func start(listen: AdminSettings, report: HostReport, registry: PrometheusCollectorRegistry, logger: Logger)
        async throws -> AdminServer
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
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? 0)
                boundContinuation.finish()
            },
            logger: Logger(label: "bothost.admin") { _ in SwiftLogNoOpLogHandler() }
        )
        let task = Task.detached {
            defer { boundContinuation.finish() }
            try await app.run()
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw CancellationError()
        }
        logger.info("admin listening on http://\(listen.host):\(port) (/health, /ready, /metrics)")
        return AdminServer(port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
