import Foundation
import Glibc
import TelegramBotAPI
import Testing

@testable import BotHostCore

@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func readyStatusWatchdogAndStoppingInOrder(abstract: Bool) async throws {
        let name = "bothost-notify-\(UUID().uuidString.prefix(8))"
        let socketName = abstract ? "@\(name)" : NSTemporaryDirectory() + name
        let receiver = try DatagramReceiver(name: socketName)
        defer { receiver.close() }
        let token = uniqueToken()
        try await withHost(
            bots: """
                  - { name: news, token: "\(token.secretValue)", plugin: recording }
                """,
            tokens: [token], variables: ["NOTIFY_SOCKET": socketName, "WATCHDOG_USEC": "200000"]
        ) { fixture in
            #expect(await fixture.waitUntil { receiver.messages.contains("READY=1") })
            #expect(await fixture.waitUntil { receiver.messages.filter { $0 == "WATCHDOG=1" }.count >= 2 })
            #expect(await fixture.stop() == .success)
            let messages = receiver.messages
            let ready = try #require(messages.firstIndex(of: "READY=1"))
            let stopping = try #require(messages.firstIndex(of: "STOPPING=1"))
            #expect(ready < stopping)
            #expect(messages[..<ready].contains { $0.hasPrefix("STATUS=") })
            #expect(messages.contains("STATUS=1 polling"))
        }
    }
}

/// A datagram socket standing in for systemd's notify socket.
final class DatagramReceiver: @unchecked Sendable {
    private let descriptor: Int32
    /// The socket's file, removed by ``close()``; `nil` for an abstract name (`@...`).
    private let path: String?
    private let lock = NSLock()
    private var received: [String] = []
    private var thread: Thread?

    init(name: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        path = name.hasPrefix("@") ? nil : name
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes: [UInt8] = name.hasPrefix("@") ? [0] + Array(name.utf8.dropFirst()) : Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (bytes.first == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [weak self] in self?.receive() }
        self.thread = thread
        thread.start()
    }

    var messages: [String] { lock.withLock { received } }

    private var closed = false

    func close() {
        lock.withLock { closed = true }
        if let path { unlink(path) }
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ closed }) {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                let message = String(decoding: buffer[..<count], as: UTF8.self)
                lock.withLock { received.append(message) }
            }
        }
        Glibc.close(descriptor)
    }
}
