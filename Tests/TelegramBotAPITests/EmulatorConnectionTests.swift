import BotAPIEmulator
import Foundation
import TelegramBotAPI
import Testing

/// The emulator keeps connections open as Telegram does, so that a host's cost per call
/// in tests and benchmarks is not inflated by reconnecting after every long poll.
@Suite struct EmulatorConnectionTests {
    @Test func aLongPollThatWaitedLeavesItsConnectionOpen() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let connection = try RawConnection(port: try #require(emulator.port))
            defer { connection.close() }
            let path = "/bot\(testToken.secretValue)"
            let poll = try connection.call("POST \(path)/getUpdates", json: #"{"timeout":1}"#)
            #expect(poll.status == 200)
            #expect(poll.head.lowercased().contains("connection: close") == false, "\(poll.head)")
            #expect(emulator.getUpdatesCalls(of: testToken).first?.outcome != .abandoned)
            let next = try connection.call("POST \(path)/getMe", json: "{}")
            #expect(next.status == 200, "the next call went over the same connection")
        }
    }

    @Test func aPollWhoseClientWentAwayIsAbandoned() async throws {
        try await withEmulator(knowing: [testToken]) { emulator in
            let connection = try RawConnection(port: try #require(emulator.port))
            try connection.send("POST /bot\(testToken.secretValue)/getUpdates", json: #"{"timeout":30}"#)
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .pending })
            connection.close()
            #expect(await emulator.waitUntil { emulator.getUpdatesCalls(of: testToken).first?.outcome == .abandoned })
        }
    }
}

/// One TCP connection, for what HTTP clients hide: whether the server kept it.
private final class RawConnection {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    /// Sends `requestLine` with a JSON body.
    func send(_ requestLine: String, json: String) throws {
        let request = "\(requestLine) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(json.utf8.count)\r\n\r\n\(json)"
        let bytes = Array(request.utf8)
        let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Sends `requestLine` with a JSON body and reads the whole answer: its status and head.
    func call(_ requestLine: String, json: String) throws -> (status: Int, head: String) {
        try send(requestLine, json: json)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = String(text[..<end.lowerBound])
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= length {
                    return (Int(head.split(separator: " ")[1]) ?? 0, head)
                }
            }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            received += buffer[..<count]
        }
    }
}
