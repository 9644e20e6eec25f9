import BotAPIEmulator
import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import TelegramBotAPI

/// The one HTTP listener of every webhook bot of a host, on `ingress.listen`: HTTP/1.1,
/// over TLS when `ingress.tls` is set, else plain for a reverse proxy in front.
///
/// It runs where the locks are (the supervisor, or the host with `isolation: none`).
/// A delivery is `POST …/<lock id>`; it is checked, cheapest check first, and refused
/// without reaching any bot when it fails one: a source outside `trusted_networks` 403,
/// an unknown lock id 404, no `X-Telegram-Bot-Api-Secret-Token` 401 and a wrong one 403,
/// a body over ``maxBodySize`` 413, a body not sent within ``bodyTimeout`` 408, a body
/// that is not an update 400. Each refusal counts in
/// `bothost_webhook_refusals_total{bot,reason}`; none is logged with the secret, which
/// only ``WebhookSecret/matches(_:)`` sees. A delivery that passes goes to the bot's
/// ``WebhookDeliveryTarget`` and is answered as ``WebhookAnswer`` says.
enum WebhookListener {
    /// Telegram's updates are a few kilobytes; a megabyte leaves room for the largest.
    static let maxBodySize = 1 << 20
    /// The longest a client may take to send a body, in seconds of real time.
    static let bodyTimeout = Duration.seconds(5)
    /// Connections with no request for this long are closed.
    static let idleTimeout = TimeAmount.seconds(75)

    /// The listener as a service of the host's group. Throws when `tls` files cannot be read.
    static func server(
        settings: IngressSettings, bots: WebhookDirectory, target: any WebhookDeliveryTarget, metrics: any MetricsFactory,
        logger: Logger
    ) throws -> HTTPServer {
        let router = Router(context: WebhookRequestContext.self)
        let handler = Deliveries(settings: settings, bots: bots, target: target, metrics: metrics)
        router.post("**") { request, context in await handler.answer(request, context: context) }
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: idleTimeout))
        var server = http1
        let scheme = settings.tls == nil ? "http" : "https"
        if let tls = settings.tls {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)))
            server = try .tls(http1, tlsConfiguration: configuration)
        }
        return HTTPServer(
            name: "the webhook listener", router: router, host: settings.host, port: settings.port, backlog: 4096,
            server: server, logger: Logger(label: "bothost.webhook") { _ in SwiftLogNoOpLogHandler() },
            onListening: { port in
                logger.info(
                    "webhook listener on \(scheme)://\(settings.host):\(port); Telegram posts to \(settings.publicURL ?? "?")/<lock id>"
                )
            })
    }

    /// The checks and the hand-over of one delivery.
    private struct Deliveries: Sendable {
        let settings: IngressSettings
        let bots: WebhookDirectory
        let target: any WebhookDeliveryTarget
        let metrics: any MetricsFactory

        func answer(_ request: Request, context: WebhookRequestContext) async -> Response {
            guard isTrusted(request, context: context) else { return refuse(.forbidden, "untrusted_source", bot: nil) }
            let lockID = request.uri.path.split(separator: "/").last ?? ""
            guard let bot = bots.bot(lockID) else { return refuse(.notFound, "unknown_bot", bot: nil) }
            guard let secret = request.headers[values: .init(WebhookSecret.header)!].first else {
                return refuse(.unauthorized, "no_secret", bot: bot)
            }
            guard bot.secret.matches(secret) else { return refuse(.forbidden, "wrong_secret", bot: bot) }
            if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodySize {
                return refuse(.contentTooLarge, "too_large", bot: bot, close: true)
            }
            let body: ByteBuffer
            switch await collectBody(of: request, on: context.channel) {
            case .success(let collected): body = collected
            case .failure(.tooLarge): return refuse(.contentTooLarge, "too_large", bot: bot, close: true)
            case .failure(.tooSlow): return refuse(.requestTimeout, "too_slow", bot: bot, close: true)
            }
            guard let update = try? Update(jsonText: Array(buffer: body)), Self.isObject(body) else {
                return refuse(.badRequest, "not_an_update", bot: bot)
            }
            let answer = await target.deliver(update, to: bot)
            Counter(
                label: "bothost_webhook_deliveries_total", dimensions: [("bot", bot.name), ("answer", answer.rawValue)],
                factory: metrics
            ).increment()
            var headers: HTTPFields = [.contentLength: "0"]
            if let retryAfter = answer.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
            return Response(status: .init(code: answer.status), headers: headers)
        }

        /// Whether the source may deliver: any, unless `trusted_networks` is set. The source
        /// is the peer, or the last address of `X-Forwarded-For` that a peer in
        /// `trusted_proxies` added.
        private func isTrusted(_ request: Request, context: WebhookRequestContext) -> Bool {
            guard !settings.trustedNetworks.isEmpty else { return true }
            guard var source = context.peerAddress else { return false }
            if settings.trustedProxies.contains(where: { $0.contains(source) }),
                let forwarded = request.headers[values: .init("X-Forwarded-For")!].last?
                    .split(separator: ",").last?.trimmingCharacters(in: .whitespaces)
            {
                source = forwarded
            }
            return settings.trustedNetworks.contains { $0.contains(source) }
        }

        private enum BodyProblem: Error {
            case tooLarge, tooSlow
        }

        /// The body, at most ``maxBodySize`` bytes within ``bodyTimeout``. A client too slow
        /// has its connection's input shut, which ends the read; the answer still goes out.
        private func collectBody(of request: Request, on channel: any Channel) async -> Result<ByteBuffer, BodyProblem> {
            await withTaskGroup(of: Result<ByteBuffer, BodyProblem>?.self) { group in
                group.addTask {
                    var request = request
                    do {
                        return .success(try await request.collectBody(upTo: maxBodySize))
                    } catch let error as HTTPError where error.status == .contentTooLarge {
                        return .failure(.tooLarge)
                    } catch {
                        return .failure(.tooSlow)
                    }
                }
                group.addTask {
                    guard (try? await Task.sleep(for: bodyTimeout)) != nil else { return nil }
                    channel.close(mode: .input, promise: nil)
                    return .failure(.tooSlow)
                }
                defer { group.cancelAll() }
                while let result = await group.next() {
                    if let result { return result }
                }
                return .failure(.tooSlow)
            }
        }

        private static func isObject(_ body: ByteBuffer) -> Bool {
            body.readableBytesView.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) == UInt8(ascii: "{")
        }

        private func refuse(_ status: HTTPResponse.Status, _ reason: String, bot: WebhookBot?, close: Bool = false) -> Response {
            Counter(
                label: "bothost_webhook_refusals_total", dimensions: [("bot", bot?.name ?? ""), ("reason", reason)],
                factory: metrics
            ).increment()
            var headers: HTTPFields = [.contentLength: "0"]
            if close { headers[.connection] = "close" }
            return Response(status: status, headers: headers)
        }
    }
}
