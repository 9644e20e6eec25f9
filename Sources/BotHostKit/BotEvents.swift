import Synchronization

/// The bot's state changes and conflicts, for plugins that want to react to them
/// (pause a scheduler while another poller holds the token, say).
public final class BotEvents: Sendable {
    private let subscribers = Mutex<[UInt64: AsyncStream<BotEvent>.Continuation]>([:])
    private let nextID = Atomic<UInt64>(0)

    package init() {}

    /// A stream of every event from now on. It ends when the bot has stopped.
    public func stream() -> AsyncStream<BotEvent> {
        let (stream, continuation) = AsyncStream<BotEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends `event` to every subscriber.
    package func publish(_ event: BotEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    /// Ends every stream.
    package func finish() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
