import Foundation

/// The dead letters of some bots, each named `BOT-SEQUENCE` (`support-42`): what
/// `bothost dead-letters`, the control API and `bothost ctl` list and hand back.
///
/// Every id of a change is checked before anything changes, so that a mistyped id leaves
/// all the others as they were.
struct DeadLetterCatalog: Sendable {
    let bots: [BotConfiguration]
    let journals: any JournalStorage
    /// How the bots were chosen, for messages about an id of another bot: ` in the manifest`.
    var scope = " in the manifest"

    /// A dead letter and its bot.
    struct Entry: Sendable {
        var bot: BotConfiguration
        var letter: DeadLetter

        var id: String { "\(bot.name)-\(letter.sequence)" }
        var row: DeadLetterRow {
            DeadLetterRow(
                id: id, bot: bot.name, updateID: letter.updateID, chat: letter.chatID, reason: letter.reason,
                tries: letter.attempts, time: letter.setAsideAt)
        }
    }

    /// An id that names no dead letter: nothing was changed.
    struct UnknownID: Error, CustomStringConvertible {
        var description: String
    }

    enum Change {
        /// Hand them back to their bots, with their tries counted afresh.
        case replay
        /// Delete them.
        case discard
    }

    /// Every dead letter of the bots, bot by bot, oldest first.
    func list() async throws -> [Entry] {
        var listed: [Entry] = []
        for bot in bots {
            guard let store = try await journals.deadLetters(of: bot.lockID) else { continue }
            let letters = try await store.deadLetters()
            await store.close()
            listed += letters.map { Entry(bot: bot, letter: $0) }
        }
        return listed
    }

    /// Replays or discards the dead letters `ids`; throws ``UnknownID`` for an id that
    /// names none, having changed nothing.
    func apply(_ change: Change, to ids: [String]) async throws {
        var byBot: [String: (bot: BotConfiguration, sequences: [Int64])] = [:]
        for id in ids {
            guard let dash = id.lastIndex(of: "-"), let sequence = Int64(id[id.index(after: dash)...]) else {
                throw UnknownID(
                    description: "unknown dead letter '\(id)': expected BOT-SEQUENCE as listed by bothost dead-letters")
            }
            guard let bot = bots.first(where: { $0.name == id[..<dash] }) else {
                throw UnknownID(description: "unknown dead letter '\(id)': no bot named '\(id[..<dash])'\(scope)")
            }
            byBot[bot.name, default: (bot, [])].sequences.append(sequence)
        }
        for (bot, sequences) in byBot.values {
            guard let store = try await journals.deadLetters(of: bot.lockID) else {
                throw UnknownID(description: "unknown dead letter '\(bot.name)-\(sequences[0])': the bot has no journal")
            }
            let letters = Set(try await store.deadLetters().map(\.sequence))
            await store.close()
            if let unknown = sequences.first(where: { !letters.contains($0) }) {
                throw UnknownID(
                    description:
                        "unknown dead letter '\(bot.name)-\(unknown)': none is set aside under that id now "
                        + "(handed back already, discarded, or never set aside)")
            }
        }
        for (bot, sequences) in byBot.values {
            try await apply(change, to: sequences, of: bot)
        }
    }

    /// Replays every dead letter of the bots; returns how many.
    func replayAll() async throws -> Int {
        let letters = try await list()
        for group in Dictionary(grouping: letters, by: \.bot.name).values {
            try await apply(.replay, to: group.map(\.letter.sequence), of: group[0].bot)
        }
        return letters.count
    }

    private func apply(_ change: Change, to sequences: [Int64], of bot: BotConfiguration) async throws {
        guard let store = try await journals.deadLetters(of: bot.lockID) else { return }
        do {
            switch change {
            case .replay: try await store.replay(sequences)
            case .discard: try await store.discard(sequences)
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
