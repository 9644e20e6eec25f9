import Foundation

/// A plain TCP client for requests that ordinary HTTP clients will not make: a body
/// sent one byte a second, a body far larger than announced limits. Returns the status
/// of the answer (`nil` when the connection closed without one) and how long it took.
enum RawHTTP {
    /// Sends `head` (request line and headers, without the blank line) and `body` to
    /// 127.0.0.1:`port`, `body` one byte every `byteInterval` when given, and reads the
    /// status line of the answer, waiting at most `timeout`.
    static func status(
        port: Int, head: String, body: [UInt8], byteInterval: Duration? = nil, timeout: Duration = .seconds(20)
    ) async throws -> (status: Int?, elapsed: Duration) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var receiveTimeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
        let start = ContinuousClock.now
        let deadline = start + timeout
        _ = send(fd, Array((head + "\r\n\r\n").utf8))
        var answer: [UInt8] = []
        var sent = 0
        while ContinuousClock.now < deadline {
            if sent < body.count {
                let chunk = byteInterval == nil ? body.count - sent : 1
                let written = body[sent..<sent + chunk].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if written > 0 { sent += written }
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                answer += buffer[..<count]
                if let line = String(decoding: answer, as: UTF8.self).split(separator: "\r\n").first, answer.contains(10) {
                    return (Int(line.split(separator: " ").dropFirst().first ?? ""), ContinuousClock.now - start)
                }
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                if sent >= body.count || byteInterval != nil { return (nil, ContinuousClock.now - start) }
            }
            if let byteInterval, sent < body.count { try await Task.sleep(for: byteInterval) }
        }
        return (nil, ContinuousClock.now - start)
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
