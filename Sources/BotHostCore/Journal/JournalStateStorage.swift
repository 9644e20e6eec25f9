package import BotHostKit
package import Foundation

/// A bot's conversation state (``StateStore``) in its journal's database: the same SQLite
/// file, or the lock database with the journal's connections. It is opened and closed with
/// the journal, and with the postgres backend its writes are fenced like the journal's
/// (``JournalError/fenced(place:)`` once another host holds the bot's lock), so a host that
/// lost a bot cannot overwrite what the new holder's handlers wrote.
///
/// Errors are ``JournalError``s, which name the journal's place.
package protocol JournalStateStorage: StateStorage {
    /// Deletes at most `limit` values expired at or before `now`, in one transaction;
    /// returns how many went.
    func purgeExpired(before now: Date, limit: Int) async throws(JournalError) -> Int
}

extension JournalStateStorage {
    /// Deletes every value expired at or before `now`, `batch` at a time, each batch a
    /// transaction of its own, so that handlers' reads and writes go on in between; returns
    /// how many went.
    package func purgeAllExpired(before now: Date, batch: Int = 1000) async throws(JournalError) -> Int {
        var purged = 0
        while !Task.isCancelled {
            let deleted = try await purgeExpired(before: now, limit: batch)
            purged += deleted
            if deleted < batch { break }
        }
        return purged
    }
}
