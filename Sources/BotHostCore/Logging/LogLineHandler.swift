import Foundation
package import Logging

/// How log lines look on stderr.
package enum LogFormat: String, Sendable, CaseIterable {
    /// `ts=... level=info msg="..." bot=news`: one event per line, for people and `grep`.
    case logfmt
    /// One JSON object per line, for log shippers.
    case json
}

/// Writes one line per event to stderr, in ``LogFormat``.
///
/// Lines are written whole with one `write(2)`, so lines from concurrent bots never
/// interleave.
package struct LogLineHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    private let format: LogFormat

    package init(format: LogFormat, level: Logger.Level) {
        self.format = format
        self.logLevel = level
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let metadata = metadata.merging(event.metadata ?? [:]) { _, new in new }.sorted { $0.key < $1.key }
        let fields = metadata.map { ($0.key, "\($0.value)") }
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let line: String
        switch format {
        case .logfmt:
            let pairs = [("ts", timestamp), ("level", event.level.rawValue), ("msg", event.message.description)] + fields
            line = pairs.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            var object: [String: Any] = ["ts": timestamp, "level": event.level.rawValue, "msg": event.message.description]
            for (key, value) in metadata { object[key] = Self.jsonValue(value) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Numbers logged as numbers (`.stringConvertible(pid)`) stay numbers in JSON, so that
    /// a log shipper can compare them; everything else is a string.
    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .stringConvertible(let number as any BinaryInteger): Int64(exactly: number) ?? value.description
        case .stringConvertible(let number as Double): number
        case .stringConvertible(let flag as Bool): flag
        case .array(let values): values.map(jsonValue)
        case .dictionary(let values): values.mapValues(jsonValue)
        default: value.description
        }
    }

    private static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}
