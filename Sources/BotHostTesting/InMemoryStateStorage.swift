import BotHostKit
import Foundation
import Synchronization

/// A ``PluginHarness``'s state storage: a dictionary, fresh for each harness.
///
/// The host keeps state in the bot's journal database (SQLite or PostgreSQL), which the
/// harness does not link: a plugin's tests build without GRDB or PostgresNIO, and each test
/// starts empty with nothing to clean up. What a plugin sees is the same, as keys, JSON
/// and times to live are the ``StateStore``'s own, and the host's backends are tested
/// against it. Expired values are kept until overwritten: a harness lives for one test.
final class InMemoryStateStorage: StateStorage {
    private let values = Mutex<[StateKey: (json: String, expiry: Date?)]>([:])

    func read(_ key: StateKey, at now: Date) -> String? {
        guard let stored = values.withLock({ $0[key] }) else { return nil }
        if let expiry = stored.expiry, expiry <= now { return nil }
        return stored.json
    }

    func write(_ json: String, for key: StateKey, expiringAt expiry: Date?) {
        values.withLock { $0[key] = (json, expiry) }
    }

    func remove(_ key: StateKey) {
        _ = values.withLock { $0.removeValue(forKey: key) }
    }
}
