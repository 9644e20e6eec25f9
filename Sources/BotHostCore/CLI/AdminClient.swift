import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// `bothost ctl`'s side of the control API: one request to a running host's admin server,
/// its answer decoded, or a one-line reason and the exit status it means.
struct AdminClient {
    /// The admin server, such as `http://127.0.0.1:9464`, without a trailing slash.
    let baseURL: String
    /// The token of `admin.token_file`, sent as `Authorization: Bearer` when given.
    let token: String?

    /// Why a request did not do what it asked, with the exit status that says so.
    struct Failure: Error {
        var message: String
        var status: ExitStatus
        /// The manifest's problems, when a reload found it invalid.
        var problems: [String] = []
    }

    /// `127.0.0.1:9464` and `http://127.0.0.1:9464/` both name `http://127.0.0.1:9464`.
    init(admin: String, token: String?) {
        var url = Substring(admin.contains("://") ? admin : "http://\(admin)")
        while url.hasSuffix("/") { url = url.dropLast() }
        baseURL = String(url)
        self.token = token
    }

    /// Sends `method path` and decodes a 2xx answer as `Answer`.
    func send<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, as type: Answer.Type = Answer.self, timeout: Duration = .seconds(30)
    ) async throws(Failure) -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let status: HTTPResponseStatus
        let body: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
            status = response.status
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw Failure(message: "cannot reach the admin server at \(baseURL): \(Self.describe(error))", status: .botFailed)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard (200..<300).contains(status.code) else {
            // A BotHost admin server explains every refusal in JSON.
            guard let refusal = try? decoder.decode(ControlError.self, from: body) else {
                throw Failure(
                    message: "\(method) \(path): \(status.code) \(status.reasonPhrase); is \(baseURL) a BotHost admin server?",
                    status: .botFailed)
            }
            throw Failure(
                message: "\(method) \(path): \(status.code) \(status.reasonPhrase): \(refusal.error)",
                status: Self.exitStatus(of: status), problems: refusal.problems ?? [])
        }
        do {
            return try decoder.decode(Answer.self, from: body)
        } catch {
            throw Failure(
                message: "\(method) \(path): the answer is not what bothost ctl expects; is \(baseURL) a BotHost admin server?",
                status: .botFailed)
        }
    }

    /// 2 for what the command line got wrong (a bot or dead letter unknown there, a missing
    /// or wrong token, an invalid manifest); 1 for what the host could not do.
    private static func exitStatus(of status: HTTPResponseStatus) -> ExitStatus {
        switch status {
        case .unauthorized, .forbidden, .notFound, .unprocessableEntity: .usage
        default: .botFailed
        }
    }

    /// `connection refused`: NIO's words for the usual failures are long.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .deadlineExceeded { return "no answer in time" }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return (first.error as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() } ?? "\(first.error)"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }
}
