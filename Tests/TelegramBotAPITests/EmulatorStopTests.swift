import BotAPIEmulator
import Glibc
import TelegramBotAPI
import Testing

@Suite struct EmulatorStopTests {
    /// Connections still arriving as the emulator stops: cancelled while it accepted, the
    /// server dropped one accepted but not yet served, and NIO trapped on it
    /// (apple/swift-nio#3481), taking the whole test run down (it did within a few rounds).
    @Test func aStopAmidArrivingConnectionsEndsCleanly() async throws {
        for _ in 0..<100 {
            let emulator = BotAPIEmulator()
            let port = try await emulator.start()
            let sockets = (0..<30).map { _ in Self.connectWithoutWaiting(to: port) }
            await emulator.stop()
            for socket in sockets { close(socket) }
        }
    }

    /// Connections arriving *while* the emulator stops gracefully: the server stops
    /// accepting before it shuts down (Hummingbird alone closes its listener at once and
    /// may drop a connection accepted in that instant, on which NIO traps,
    /// apple/swift-nio#2813; seen twice in CI, not reproduced here), and the stop still
    /// ends, with connections left unaccepted in the listener's backlog.
    @Test func aStopWhileConnectionsKeepArrivingEndsCleanly() async throws {
        for _ in 0..<50 {
            let emulator = BotAPIEmulator()
            let port = try await emulator.start()
            let connecting = Task.detached {
                var sockets: [Int32] = []
                while !Task.isCancelled, sockets.count < 2_000 {
                    sockets.append(Self.connectWithoutWaiting(to: port))
                }
                return sockets
            }
            try await Task.sleep(for: .milliseconds(2))
            await emulator.stop()
            connecting.cancel()
            for socket in await connecting.value { close(socket) }
        }
    }

    /// A stop that outlasts its grace (a call the emulator answers late) ends in
    /// cancellation, while connections keep arriving: the server stops accepting before
    /// it is cancelled too, and the stop still ends.
    @Test func aStopCancelledAfterItsGraceWhileConnectionsKeepArrivingEndsCleanly() async throws {
        for _ in 0..<3 {
            let emulator = BotAPIEmulator()
            emulator.addBot(testToken)
            let port = try await emulator.start()
            emulator.injectFault(.delay(.seconds(3)), method: "sendMessage", for: testToken)
            let slow = try RawConnection(port: port)
            try slow.send("POST /bot\(testToken.secretValue)/sendMessage", json: #"{"chat_id":1,"text":"x"}"#)
            let connecting = Task.detached {
                var sockets: [Int32] = []
                while !Task.isCancelled, sockets.count < 2_000 {
                    sockets.append(Self.connectWithoutWaiting(to: port))
                    try? await Task.sleep(for: .milliseconds(1))
                }
                return sockets
            }
            try await Task.sleep(for: .milliseconds(50))
            await emulator.stop()
            connecting.cancel()
            for socket in await connecting.value { close(socket) }
            slow.close()
        }
    }

    /// A TCP socket whose connection to `127.0.0.1:port` the kernel completes (the listener's
    /// backlog takes it) whether or not the server has accepted it yet.
    private static func connectWithoutWaiting(to port: Int) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return descriptor
    }
}
