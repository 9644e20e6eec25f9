import NIOCore

/// Tells when a client closes its side of a connection while its request waits: a long
/// poll that nobody waits for any more.
///
/// Telegram keeps a connection open after a long poll, and clients send their next call
/// on it. Hummingbird's `consumeWithInboundCloseHandler` notices a client going away by
/// reading the connection's request stream, which then cannot serve another request, so
/// the connection is closed after the answer. This handler watches the connection's
/// events instead and leaves it usable: it sits first in the pipeline for the time of
/// one request, ahead of the HTTP decoder.
final class InboundCloseWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private static let name = "emulator.inbound-close-watcher"
    private let onInboundClosed: @Sendable () -> Void

    private init(onInboundClosed: @escaping @Sendable () -> Void) {
        self.onInboundClosed = onInboundClosed
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed = event as? ChannelEvent { onInboundClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        onInboundClosed()
        context.fireChannelInactive()
    }

    /// Runs `operation`, calling `onInboundClosed` (at most once it matters: callers make
    /// it idempotent) when the client closes the connection meanwhile.
    static func watching<Value: Sendable>(
        _ channel: any Channel, _ operation: () async throws -> Value, onInboundClosed: @escaping @Sendable () -> Void
    ) async throws -> Value {
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(Self(onInboundClosed: onInboundClosed), name: name, position: .first)
        }.get()
        defer { channel.pipeline.removeHandler(name: name, promise: nil) }
        return try await operation()
    }
}
