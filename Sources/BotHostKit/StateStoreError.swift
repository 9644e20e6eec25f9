/// Why a ``StateStore`` could not read or write a value; every case names the key.
public enum StateStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stored JSON does not decode as the type asked for: the type changed since the
    /// value was written (a field added without a default, renamed, or given another
    /// type), or another part of the plugin keeps another type under the same key. The
    /// value stays; overwrite it or remove it.
    case undecodable(StateKey, type: String, problem: String)
    /// The value cannot be written as JSON: a `Double` that is not finite, or an
    /// `encode(to:)` that throws. Nothing was written.
    case unencodable(StateKey, problem: String)
    /// The storage could not be used: a full disk, a database that cannot be reached, a
    /// write after the bot stopped, or a host that lost the bot's lock to another (its
    /// writes are refused). The problem names the journal's file or database, never a
    /// token or password. Nothing was written.
    case unavailable(StateKey, problem: String)

    /// The key asked for.
    public var key: StateKey {
        switch self {
        case .undecodable(let key, _, _), .unencodable(let key, _), .unavailable(let key, _): key
        }
    }

    public var description: String {
        switch self {
        case .undecodable(let key, let type, let problem): "state \(key) does not decode as \(type): \(problem)"
        case .unencodable(let key, let problem): "state \(key) cannot be written as JSON: \(problem)"
        case .unavailable(let key, let problem): "state \(key): \(problem)"
        }
    }
}
