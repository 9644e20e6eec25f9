import NIOCore
import Synchronization

/// Tells a waiting long poll that its client closed the connection, and leaves the
/// connection usable otherwise.
///
/// Telegram keeps a connection open after a long poll, and clients send their next call
/// on it. Hummingbird's `consumeWithInboundCloseHandler` notices a client going away by
/// reading the connection's request stream, which then cannot serve another request, so
/// the connection is closed after the answer. This handler, one on every connection from
/// its start (so that a close that comes before a poll waits is not missed), watches the
/// connection's events instead: the client's close arrives as `inputClosed` (Hummingbird
/// allows half-closed connections), a reset as the channel going inactive.
final class InboundCloseWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    /// Never unwrapped: every request part goes on untouched.
    typealias InboundIn = Never

    private let state = Mutex<(closed: Bool, onClose: (@Sendable () -> Void)?)>((false, nil))

    init() {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed = event as? ChannelEvent { closed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    private func closed() {
        let onClose = state.withLock { state in
            state.closed = true
            defer { state.onClose = nil }
            return state.onClose
        }
        onClose?()
    }

    /// Calls `onClose` once the client has closed the connection, in a task of its own if
    /// it has already; replaces what an earlier call gave, and ``forget()`` drops it.
    func whenClosed(_ onClose: @escaping @Sendable () -> Void) {
        let closed = state.withLock { state in
            if !state.closed { state.onClose = onClose }
            return state.closed
        }
        if closed { Task { onClose() } }
    }

    /// Drops what ``whenClosed(_:)`` gave: the poll was answered.
    func forget() {
        state.withLock { $0.onClose = nil }
    }
}
