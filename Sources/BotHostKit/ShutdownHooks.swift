import Logging
import Synchronization

/// Cleanup work to run when a bot (or the whole host) stops: close an API client, stop
/// a scheduler, flush an index.
///
/// Hooks run last-registered-first, like `defer`: what was set up last usually depends
/// on what was set up before it, so it is torn down first. Each hook has its own
/// timeout; a hook that throws or runs out of time is logged with its name and the
/// rest still run, so one broken resource cannot keep the others open or hold up the
/// exit. Once shutdown has begun, registering is refused: the new hook would never run.
public final class ShutdownHooks: Sendable {
    /// One registered hook; ``unregister()`` removes it before it runs.
    public struct Handle: Sendable {
        fileprivate let id: UInt64
        fileprivate let hooks: ShutdownHooks

        /// Removes the hook. Does nothing once the hooks have run.
        public func unregister() {
            hooks.state.withLock { state in state.hooks.removeAll { $0.id == id } }
        }
    }

    /// How one hook ended.
    public struct Outcome: Sendable, Equatable {
        public enum Result: Sendable, Equatable {
            case done
            case failed(String)
            case timedOut
        }

        public var name: String
        public var result: Result
        public var duration: Duration
    }

    private struct Hook: Sendable {
        var id: UInt64
        var name: String
        var timeout: Duration
        var body: @Sendable () async throws -> Void
    }

    private struct State {
        var hooks: [Hook] = []
        var nextID: UInt64 = 0
        var shuttingDown = false
    }

    private let state = Mutex(State())
    private let defaultTimeout: Duration
    private let logger: Logger
    private let clock: any Clock<Duration>

    /// - Parameters:
    ///   - defaultTimeout: the time a hook registered without its own timeout may take.
    ///   - logger: where each hook's outcome is logged, with `hook=NAME`.
    package init(defaultTimeout: Duration = .seconds(5), logger: Logger, clock: any Clock<Duration> = ContinuousClock()) {
        self.defaultTimeout = defaultTimeout
        self.logger = logger
        self.clock = clock
    }

    /// Registers `hook` to run at shutdown under `name` (used in logs).
    ///
    /// - Throws: ``ShutdownHooksError/shutdownInProgress(hook:)`` once shutdown has begun.
    @discardableResult
    public func register(
        _ name: String, timeout: Duration? = nil, _ hook: @escaping @Sendable () async throws -> Void
    ) throws(ShutdownHooksError) -> Handle {
        let id = try state.withLock { state throws(ShutdownHooksError) in
            guard !state.shuttingDown else { throw .shutdownInProgress(hook: name) }
            state.nextID += 1
            state.hooks.append(Hook(id: state.nextID, name: name, timeout: timeout ?? defaultTimeout, body: hook))
            return state.nextID
        }
        return Handle(id: id, hooks: self)
    }

    /// Whether ``run()`` has begun.
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// The names of the registered hooks, in the order they will run.
    public var pendingHookNames: [String] { state.withLock { $0.hooks.reversed().map(\.name) } }

    /// Runs every hook, last-registered-first, each within its timeout, and returns how
    /// each ended. Runs once: later calls return an empty list.
    @discardableResult
    public func run() async -> [Outcome] {
        let hooks = state.withLock { state -> [Hook] in
            guard !state.shuttingDown else { return [] }
            state.shuttingDown = true
            defer { state.hooks.removeAll() }
            return state.hooks.reversed()
        }
        var outcomes: [Outcome] = []
        for hook in hooks {
            let (limited, duration) = await measure(on: clock) {
                await runWithTimeLimit(hook.timeout, clock: clock, on: PluginExecutor.shared, hook.body)
            }
            let result: Outcome.Result =
                switch limited {
                case .finished: .done
                case .failed(let error): .failed(String(describing: error))
                case .timedOut: .timedOut
                }
            let outcome = Outcome(name: hook.name, result: result, duration: duration)
            log(outcome, timeout: hook.timeout)
            outcomes.append(outcome)
        }
        return outcomes
    }

    private func log(_ outcome: Outcome, timeout: Duration) {
        let metadata: Logger.Metadata = ["hook": "\(outcome.name)"]
        switch outcome.result {
        case .done:
            logger.info("hook done in \(formatDuration(outcome.duration))", metadata: metadata)
        case .failed(let reason):
            logger.error("hook failed after \(formatDuration(outcome.duration)): \(reason)", metadata: metadata)
        case .timedOut:
            logger.error("hook timed out after \(formatDuration(timeout))", metadata: metadata)
        }
    }
}

public enum ShutdownHooksError: Error, Sendable, Equatable, CustomStringConvertible {
    case shutdownInProgress(hook: String)

    public var description: String {
        switch self {
        case .shutdownInProgress(let hook): "cannot register shutdown hook '\(hook)': shutdown has already begun"
        }
    }
}
