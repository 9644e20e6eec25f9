package import Foundation
import Glibc

/// Who holds a lock, as the holder records it for people: `bothost status` and the
/// "held elsewhere" messages show it.
///
/// Only informative: the lock itself (a kernel `flock`, a database session) is the truth,
/// and a recorded owner may be stale or garbage. Encoded as
/// `{"bot":…,"hostname":…,"pid":…,"started_at":"2025-01-01T10:00:00Z"}`.
package struct LockOwner: Sendable, Hashable, Codable {
    /// The process id in the holder's own PID namespace.
    package var pid: Int32
    /// The bot's name from the manifest.
    package var bot: String
    package var hostname: String
    /// When the holder took the lock; whole seconds survive encoding.
    package var startedAt: Date

    package init(pid: Int32, bot: String, hostname: String, startedAt: Date) {
        self.pid = pid
        self.bot = bot
        self.hostname = hostname
        self.startedAt = startedAt
    }

    /// This process, taking the lock for `bot` now.
    package static func currentProcess(bot: String) -> LockOwner {
        LockOwner(pid: getpid(), bot: bot, hostname: currentHostname(), startedAt: Date())
    }

    enum CodingKeys: String, CodingKey {
        case pid, bot, hostname
        case startedAt = "started_at"
    }

    /// The JSON written into a lock file, one line.
    var encodedRecord: [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and dates cannot fail.
        return Array(try! encoder.encode(self)) + Array("\n".utf8)
    }

    /// The owner recorded in a lock file, or `nil` when the bytes are not a complete record.
    init?(record: [UInt8]) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let owner = try? decoder.decode(LockOwner.self, from: Data(record)) else { return nil }
        self = owner
    }
}
