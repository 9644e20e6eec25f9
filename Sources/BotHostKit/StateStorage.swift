package import Foundation

/// Where a ``StateStore`` keeps its JSON: the bot's journal database in the host, memory in
/// `PluginHarness`.
///
/// The store encodes, decodes and reads the clock; storage only keeps text by key with an
/// expiry time, so every backend shares one meaning of keys, JSON and TTLs, and a test's
/// manual clock can expire values. Each call is atomic on its own, and suspends rather
/// than block its caller's thread while the disk or the database works.
package protocol StateStorage: Sendable {
    /// The JSON stored under `key`, unless it expired at or before `now`; `nil` when none.
    func read(_ key: StateKey, at now: Date) async throws -> String?

    /// Stores `json` under `key`, replacing what was there; it reads as absent from
    /// `expiry` on (`nil`: never).
    func write(_ json: String, for key: StateKey, expiringAt expiry: Date?) async throws

    /// Deletes the value under `key`, if any.
    func remove(_ key: StateKey) async throws
}
