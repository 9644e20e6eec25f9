import Foundation
import Glibc

/// Tells systemd how the host is doing through `$NOTIFY_SOCKET` (`Type=notify` units):
/// `READY=1`, `STATUS=...`, `STOPPING=1`, `WATCHDOG=1`.
///
/// The socket is a datagram socket named by a path or, with a leading `@`, by an
/// abstract name. Sending never blocks and a lost datagram is not an error: systemd
/// notification is advice, not a dependency.
struct SystemdNotifier: Sendable {
    private let address: [UInt8]
    /// Half of `$WATCHDOG_USEC`, when systemd expects watchdog pings from this process.
    let watchdogInterval: Duration?

    /// `nil` unless `NOTIFY_SOCKET` is set.
    init?(environment: [String: String]) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return nil }
        address = socket.hasPrefix("@") ? [0] + Array(socket.utf8.dropFirst()) : Array(socket.utf8)
        let watchdogPID = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let microseconds = environment["WATCHDOG_USEC"].flatMap({ Int64($0) }), microseconds > 0,
            watchdogPID == nil || watchdogPID == getpid()
        {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    func send(_ message: String) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard address.count <= capacity else { return }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            path.copyBytes(from: address)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + address.count + (address.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketPointer in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL), socketPointer, length)
            }
        }
    }
}
