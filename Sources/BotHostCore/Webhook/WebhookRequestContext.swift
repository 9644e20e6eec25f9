import Hummingbird
import NIOCore

/// A delivery to the webhook listener, with its connection: the source address that
/// `trusted_networks` checks, and the channel that a client too slow to send its body
/// is cut off on.
struct WebhookRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The peer's IP address, without its port; `nil` for a unix socket.
    let peerAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
