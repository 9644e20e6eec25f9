import Foundation

/// One dead letter as JSON: `bothost dead-letters --json`, `GET /dead-letters`, and what
/// `bothost ctl dead-letters` reads back.
struct DeadLetterRow: Codable, Sendable {
    var id: String
    var bot: String
    var updateID: Int64
    var chat: Int64?
    var reason: String
    var tries: Int
    var time: Date

    enum CodingKeys: String, CodingKey {
        case id, bot, chat, reason, tries, time
        case updateID = "update_id"
    }

    /// Every key, `chat` as `null` for an update of no chat.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(bot, forKey: .bot)
        try container.encode(updateID, forKey: .updateID)
        try container.encode(chat, forKey: .chat)
        try container.encode(reason, forKey: .reason)
        try container.encode(tries, forKey: .tries)
        try container.encode(time, forKey: .time)
    }

    /// The table of `bothost dead-letters` and `bothost ctl dead-letters`.
    static func table(_ rows: [DeadLetterRow]) -> String {
        let cells = rows.map {
            [
                $0.id, $0.bot, "\($0.updateID)", $0.chat.map(String.init) ?? "-", "\($0.tries)", $0.time.formatted(.iso8601),
                $0.reason,
            ]
        }
        return renderTable(header: ["ID", "BOT", "UPDATE_ID", "CHAT", "TRIES", "TIME", "REASON"], rows: cells)
            + "\n\(rows.count) dead letter\(rows.count == 1 ? "" : "s")"
    }

    /// The JSON of `bothost dead-letters --json`: an array, keys sorted, times in ISO 8601.
    static func json(_ rows: [DeadLetterRow]) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
