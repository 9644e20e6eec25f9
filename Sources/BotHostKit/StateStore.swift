package import Foundation

/// A bot's conversation state: `Codable` values by ``StateKey``, per chat, per user, per
/// user in a chat, or for the whole bot, each with an optional time to live.
///
/// ```swift
/// let key = StateKey.chat(message.chat.id, "count")
/// let count = try await context.state.value(Int.self, for: key) ?? 0
/// try await context.state.set(count + 1, for: key, ttl: .seconds(86_400))
/// try await context.state.remove(key)
/// ```
///
/// Values are kept as JSON (Foundation's `JSONEncoder` with its default strategies) in the
/// bot's update journal: its SQLite file in `state_dir`, or the lock database with the
/// postgres lock backend, where they follow the bot to whichever host takes its lock over.
/// So they survive restarts, crashes and redeployments; they are meant for conversation
/// state (a step in a form, a user's language, a counter), a few kilobytes each at most,
/// not for files.
///
/// Each call is one short transaction, awaited without blocking a thread. Updates of one
/// chat are handled one at a time, so reading a chat's value and writing it back is safe;
/// a bot- or user-scoped value that handlers of several chats read and write back at once
/// keeps the last write.
///
/// A value whose time to live has passed reads as absent at once, and is deleted within
/// the hour by the journal's housekeeping. A value that no longer decodes as the type
/// asked for (the type changed since it was written) throws
/// ``StateStoreError/undecodable(_:type:problem:)`` naming its key; it is never dropped
/// silently.
///
/// Every method throws only ``StateStoreError``, yet is declared `throws`, not
/// `throws(StateStoreError)`: Swift 6.3 crashes compiling a `catch` of one case of a
/// typed error that lets the others through (swiftlang/swift#89577), and that is how a
/// plugin handles an ``StateStoreError/undecodable(_:type:problem:)`` value:
///
/// ```swift
/// do {
///     draft = try await context.state.value(Draft.self, for: key) ?? Draft()
/// } catch StateStoreError.undecodable {
///     draft = Draft()
/// }
/// ```
public struct StateStore: Sendable {
    private let storage: any StateStorage
    private let now: @Sendable () -> Date

    /// - Parameter now: the wall clock that times to live count on.
    package init(storage: any StateStorage, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.now = now
    }

    /// The value under `key` decoded as `type`; `nil` when there is none, or it expired.
    ///
    /// - Throws: ``StateStoreError/undecodable(_:type:problem:)`` when the stored JSON does
    ///   not decode as `type`; ``StateStoreError/unavailable(_:problem:)`` when the storage
    ///   cannot be read.
    public func value<Value: Decodable>(
        _ type: Value.Type = Value.self, for key: StateKey
    ) async throws -> Value? {
        let json: String?
        do {
            json = try await storage.read(key, at: now())
        } catch {
            throw StateStoreError.unavailable(key, problem: "\(error)")
        }
        guard let json else { return nil }
        do {
            return try JSONDecoder().decode(Value.self, from: Data(json.utf8))
        } catch {
            throw StateStoreError.undecodable(key, type: "\(Value.self)", problem: Self.describe(error))
        }
    }

    /// Stores `value` under `key`, replacing what was there, for `ttl` from now (a
    /// `Duration`, counted in seconds to the millisecond; `nil`: until removed). A `ttl`
    /// of zero or less stores a value that has already expired.
    ///
    /// - Throws: ``StateStoreError/unencodable(_:problem:)`` when `value` cannot be written
    ///   as JSON; ``StateStoreError/unavailable(_:problem:)`` when the storage cannot be
    ///   written. Either way nothing changed.
    public func set<Value: Encodable>(_ value: Value, for key: StateKey, ttl: Duration? = nil) async throws {
        let json: String
        do {
            json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw StateStoreError.unencodable(key, problem: Self.describe(error))
        }
        let expiry = ttl.map { now().addingTimeInterval($0.seconds) }
        do {
            try await storage.write(json, for: key, expiringAt: expiry)
        } catch {
            throw StateStoreError.unavailable(key, problem: "\(error)")
        }
    }

    /// Deletes the value under `key`; nothing happens when there is none.
    ///
    /// - Throws: ``StateStoreError/unavailable(_:problem:)`` when the storage cannot be
    ///   written.
    public func remove(_ key: StateKey) async throws {
        do {
            try await storage.remove(key)
        } catch {
            throw StateStoreError.unavailable(key, problem: "\(error)")
        }
    }

    /// A coding error in a line: what went wrong, and where in the value (`items[2].name`).
    private static func describe(_ error: any Error) -> String {
        let context: (path: [any CodingKey], problem: String)
        switch error {
        case DecodingError.typeMismatch(_, let found), DecodingError.valueNotFound(_, let found),
            DecodingError.dataCorrupted(let found):
            context = (found.codingPath, found.debugDescription)
        case DecodingError.keyNotFound(let key, let found):
            context = (found.codingPath + [key], "missing")
        case EncodingError.invalidValue(_, let found):
            context = (found.codingPath, found.debugDescription)
        default:
            return "\(error)"
        }
        let path = context.path.reduce(into: "") { path, key in
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path.isEmpty ? context.problem : "\(path): \(context.problem)"
    }
}
