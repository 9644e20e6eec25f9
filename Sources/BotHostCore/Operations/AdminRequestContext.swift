import Hummingbird
import NIOCore

/// A request to the admin server, with the address of the peer that sent it: the control
/// API logs who asked for each change.
struct AdminRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// `127.0.0.1:50412`, `[::1]:50412`, or `unknown`.
    let peer: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress.map(Self.describe) ?? "unknown"
    }

    private static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4(let v4): "\(address.ipAddress ?? "\(v4.host)"):\(address.port ?? 0)"
        case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: address.pathname ?? "a unix socket"
        }
    }
}
