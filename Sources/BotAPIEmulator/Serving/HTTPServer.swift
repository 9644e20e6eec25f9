import Glibc
package import Hummingbird
package import HummingbirdCore
package import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Hummingbird application as a service whose bound port can be awaited.
///
/// The host's admin server and sandbox emulator, and the emulator that tests start, all
/// serve HTTP the same way: the service group (or the emulator's ``BotAPIEmulator/stop()``)
/// owns the running server, and whoever needs the address awaits ``port()``, which
/// throws the server's error when it could not listen. Graceful shutdown stops accepting
/// connections, lets the ones accepted reach the server, and ends it.
///
/// Why not hand graceful shutdown to Hummingbird directly: it closes the listening socket
/// at once, and a connection accepted in that instant (or while the server is cancelled)
/// is dropped before it is served, which NIO answers with a trap, "Deinited
/// NIOAsyncWriter without calling finish()" (apple/swift-nio#2813, #3481): a host taking
/// webhook deliveries as it stops, or an emulator that a host still calls as a test ends,
/// would crash. So the application runs in a service group of its own, outside this
/// service's graceful shutdown, and is told to shut down, or cancelled, only once the
/// listener stopped accepting.
package struct HTTPServer: Service {
    /// What the server is, for messages: "the admin server".
    package let name: String
    package let host: String
    private let requestedPort: Int
    /// The Hummingbird application, of whichever request context its router uses.
    private let application: any Service
    private let bound: BoundPort
    private let listener: Listener
    private let logger: Logger
    private let onGracefulShutdown: @Sendable () -> Void

    /// - Parameters:
    ///   - port: the port to listen on; 0 picks a free one.
    ///   - server: how connections are served: plain HTTP/1.1 unless given (TLS, timeouts).
    ///   - onListening: called with the bound port before ``port()`` returns it.
    ///   - onGracefulShutdown: called as graceful shutdown begins, to end requests that
    ///     would otherwise hold the server open (the emulator's pending long polls).
    package init<Context: RequestContext>(
        name: String, router: Router<Context>, host: String, port: Int, backlog: Int = 256,
        server: HTTPServerBuilder = .http1(), logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }, onGracefulShutdown: @escaping @Sendable () -> Void = {}
    ) where Context: InitializableFromSource<ApplicationRequestContextSource> {
        let bound = BoundPort()
        let listener = Listener()
        self.name = name
        self.listener = listener
        self.logger = logger
        self.host = host
        self.requestedPort = port
        self.bound = bound
        self.onGracefulShutdown = onGracefulShutdown
        application = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: backlog),
            onServerRunning: { channel in
                await listener.listen(on: channel)
                let port = channel.localAddress?.port ?? 0
                onListening(port)
                bound.resolve(.success(port))
            },
            logger: logger
        )
    }

    /// The port the server listens on, once it does; throws ``ListenFailure`` when it
    /// could not listen, `CancellationError` when it ended first.
    package func port() async throws -> Int {
        try await bound.value()
    }

    package func run() async throws {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: application, successTerminationBehavior: .gracefullyShutdownGroup)], logger: logger)
        configuration.logger = Logger(label: logger.label) { _ in SwiftLogNoOpLogHandler() }
        let serving = ServiceGroup(configuration: configuration)
        // Detached: a task does not inherit this one's graceful shutdown only when detached.
        let task = Task.detached { try await serving.run() }
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await task.value
                } onGracefulShutdown: { [listener, onGracefulShutdown] in
                    Task {
                        await listener.stopAccepting()
                        onGracefulShutdown()
                        await serving.triggerGracefulShutdown()
                    }
                }
            } onCancel: { [listener] in
                // Cancelling the server drops the connections in its accept queue: it is
                // shut down first, which takes them, and cancelled once its listener closed.
                Task {
                    await listener.stopAccepting()
                    await serving.triggerGracefulShutdown()
                    await listener.closed()
                    task.cancel()
                }
            }
        } catch {
            let failure = ListenFailure(server: name, address: "\(host):\(requestedPort)", error: error)
            bound.resolve(.failure(failure))
            throw failure
        }
        bound.resolve(.failure(CancellationError()))
    }

    /// A server that could not serve: `the admin server cannot listen on 127.0.0.1:9464: ...`.
    package struct ListenFailure: Error, CustomStringConvertible {
        package let server: String
        package let address: String
        package let error: any Error

        package var description: String {
            // NIO's `IOError` names the system call and adds the errno; the system's words suffice.
            let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
            return "\(server) cannot listen on \(address): \(reason)"
        }
    }
}

/// The listening channel, once the server listens, and the gate its accepts go through.
private final class Listener: Sendable {
    private let channel = Mutex<(any Channel)?>(nil)
    private let gate = AcceptGate()

    func listen(on channel: any Channel) async {
        self.channel.withLock { $0 = channel }
        try? await channel.pipeline.addHandler(gate, position: .first).get()
    }

    /// Stops accepting connections and returns once the connections accepted before have
    /// reached the server: the gate drops new reads, and `autoRead` off withdraws the read
    /// already waiting for a connection. An accepted socket goes through four hops before
    /// the server has it (set up on its own event loop, handed back to the listener's loop,
    /// the server's initializer on its loop, and back); each pass below runs a task on
    /// every loop after the ones submitted before it there, so one pass moves each
    /// hand-over at least one hop on, and eight passes leave a margin.
    func stopAccepting() async {
        gate.close()
        guard let channel = channel.withLock({ $0 }) else { return }
        try? await channel.setOption(ChannelOptions.autoRead, value: false).get()
        for _ in 0..<8 {
            try? await channel.eventLoop.submit {}.get()
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                try? await loop.submit {}.get()
            }
        }
    }

    /// Returns once the listening channel closed (at once if it never opened).
    func closed() async {
        try? await channel.withLock({ $0 })?.closeFuture.get()
    }
}

/// Passes the listening channel's reads on until closed: each read accepts connections,
/// and some come from handlers whatever `autoRead` says (NIO's async channel asking for
/// more as its buffer drains, the accept backoff after running out of descriptors), so
/// the gate sits first in the pipeline, where every read passes.
private final class AcceptGate: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = Any
    private let isOpen = Atomic(true)

    func read(context: ChannelHandlerContext) {
        if isOpen.load(ordering: .acquiring) { context.read() }
    }

    func close() {
        isOpen.store(false, ordering: .releasing)
    }
}

/// A port that becomes known once: every waiter gets the first result.
private final class BoundPort: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiters: [CheckedContinuation<Int, any Error>])>((nil, []))

    func resolve(_ result: Result<Int, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let known = state.withLock { state -> Result<Int, any Error>? in
                if state.result == nil { state.waiters.append(continuation) }
                return state.result
            }
            if let known { continuation.resume(with: known) }
        }
    }
}
