public import Logging
import Synchronization

/// Collects log lines in memory, so tests can assert on what an operator would read.
///
/// ```swift
/// let logs = LogCapture()
/// let logger = logs.logger(label: "test")
/// // ... run code with `logger` ...
/// #expect(logs.lines.contains { $0.contains("conflict") })
/// ```
public final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    public init() {}

    /// Every line so far, rendered as `level message key=value ...` with sorted metadata.
    public var lines: [String] { storage.withLock { $0 } }

    /// A logger at `level` whose lines land here.
    public func logger(label: String, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            capture.append(([event.level.rawValue, event.message.description] + fields).joined(separator: " "))
        }
    }
}
