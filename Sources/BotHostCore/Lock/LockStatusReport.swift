import Foundation

/// What `bothost status` prints, as pure functions of the statuses: the CLI only prints
/// the string, and tests compare it.
package enum LockStatusReport {
    /// A JSON array with one object per lock file: `lock_id`, `bot`, `state`
    /// (`held`, `free`, `unknown`), `pid`, `since` (ISO 8601) and `hostname`; every key is
    /// always present, `null` when not known, so scripts need no existence checks.
    package static func json(_ statuses: [LockStatus]) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, integers and dates cannot fail.
        return String(decoding: try! encoder.encode(statuses), as: UTF8.self) + "\n"
    }

    /// An aligned table with the columns LOCK ID, BOT, STATE, PID and SINCE (ISO 8601);
    /// `-` where a value is not known. Only the header when there are no lock files.
    package static func table(_ statuses: [LockStatus]) -> String {
        let header = ["LOCK ID", "BOT", "STATE", "PID", "SINCE"]
        let rows = statuses.map { status in
            [
                status.id.hex,
                status.bot ?? "-",
                status.state.rawValue,
                status.pid.map(String.init) ?? "-",
                status.since.map { $0.formatted(.iso8601) } ?? "-",
            ]
        }
        return renderTable(header: header, rows: rows) + "\n"
    }
}

extension LockStatus: Encodable {
    enum CodingKeys: String, CodingKey {
        case lockID = "lock_id"
        case bot, state, pid, since, hostname
    }

    /// Encodes missing values as `null` rather than leaving the key out.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.hex, forKey: .lockID)
        try container.encode(bot, forKey: .bot)
        try container.encode(state.rawValue, forKey: .state)
        try container.encode(pid, forKey: .pid)
        try container.encode(since, forKey: .since)
        try container.encode(hostname, forKey: .hostname)
    }
}
