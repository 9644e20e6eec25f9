import Foundation
import TelegramBotAPI

/// The `settings:` block a manifest gives one bot, for its plugin to decode.
///
/// The host hands over the raw tree together with where each value stands in the
/// manifest. ``decode(_:)`` turns a `DecodingError` into a ``PluginSettingsError`` that
/// names the manifest's file, line and key, just like the host's own manifest errors;
/// `bothost validate` and `bothost run` decode every bot's block as its plugin's
/// ``BotPlugin/Settings`` before any bot starts.
public struct PluginSettings: Sendable {
    /// The settings as JSON; `.object([:])` when the manifest has none.
    public let value: JSONValue
    /// The manifest path of the block, such as `bots[2].settings`.
    public let path: String
    /// Where the block and each value in it stand, keyed by the path below ``path``
    /// (`""` for the block itself, `chat_id`, `targets[0].url`).
    public let locations: [String: SourceLocation]

    public init(value: JSONValue = .object([:]), path: String = "settings", locations: [String: SourceLocation] = [:]) {
        self.value = value
        self.path = path
        self.locations = locations
    }

    /// Decodes the block as `T`, with manifest-pointing errors.
    ///
    /// When `T` is ``DefaultedSettings``, keys the manifest leaves out keep their defaults.
    /// When `T` is `Encodable`, a key that `T` does not read is an error too (a misspelt
    /// optional key would otherwise be ignored without a word), with a "did you mean".
    ///
    /// - Throws: ``PluginSettingsError``, the first problem found.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(PluginSettingsError) -> T {
        let (decoded, problems) = check(T.self)
        guard let decoded, problems.isEmpty else { throw problems[0] }
        return decoded
    }

    /// Every problem ``decode(_:)`` finds, in no particular order: what `bothost validate`
    /// reports before a bot starts.
    package func problems<T: Decodable>(decoding type: T.Type) -> [PluginSettingsError] {
        check(type).problems
    }

    private func check<T: Decodable>(_ type: T.Type) -> (decoded: T?, problems: [PluginSettingsError]) {
        var input = value
        if let defaulted = T.self as? any DefaultedSettings.Type, let defaults = try? Self.json(of: defaulted.init()) {
            input = Self.overlay(value, on: defaults)
        }
        let decoded: T
        do {
            decoded = try JSONDecoder().decode(T.self, from: JSONEncoder().encode(input))
        } catch let error as DecodingError {
            if case .keyNotFound(let key, let context) = error, let misspelt = misspelling(of: key.stringValue, at: context) {
                return (nil, [misspelt])
            }
            return (nil, [PluginSettingsError(decodingError: error, settings: self)])
        } catch {
            return (nil, [PluginSettingsError(location: locations[""], path: path, message: "\(error)")])
        }
        guard T.self != JSONValue.self, let encodable = decoded as? any Encodable, let read = try? Self.json(of: encodable)
        else { return (decoded, []) }
        return (decoded, unknownKeys(in: value, read: read, at: []))
    }

    /// A key the manifest gives but `T` did not read back: unknown, unless it is `null`
    /// (an optional left empty).
    private func unknownKeys(in given: JSONValue, read: JSONValue, at keys: [String]) -> [PluginSettingsError] {
        switch (given, read) {
        case (.object(let given), .object(let read)):
            return given.keys.sorted().flatMap { key -> [PluginSettingsError] in
                guard let readValue = read[key] else {
                    guard given[key] != .null else { return [] }
                    let unused = read.keys.filter { given[$0] == nil }
                    let hint = NearestName.nearest(to: key, among: unused).map { "; did you mean '\($0)'?" } ?? ""
                    return [PluginSettingsError(keys: keys + [key], message: "unknown key '\(key)'\(hint)", settings: self)]
                }
                return unknownKeys(in: given[key] ?? .null, read: readValue, at: keys + [key])
            }
        case (.array(let given), .array(let read)) where given.count == read.count:
            return zip(given, read).enumerated().flatMap { index, pair in
                unknownKeys(in: pair.0, read: pair.1, at: keys + ["[\(index)]"])
            }
        default:
            return []
        }
    }

    /// A missing key that the manifest spelt differently (`txt` for `text`), reported at
    /// the misspelling.
    private func misspelling(of key: String, at context: DecodingError.Context) -> PluginSettingsError? {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        var node = value
        for step in context.codingPath {
            guard let next = step.intValue.map({ Self.element($0, of: node) }) ?? node[step.stringValue] else { return nil }
            node = next
        }
        guard case .object(let given) = node, let typed = NearestName.nearest(to: key, among: given.keys) else { return nil }
        return PluginSettingsError(
            keys: keys + [typed], message: "unknown key '\(typed)'; did you mean '\(key)'?", settings: self)
    }

    private static func element(_ index: Int, of value: JSONValue) -> JSONValue? {
        guard case .array(let items) = value, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// `given` laid over `defaults`: objects merge key by key, anything else replaces.
    private static func overlay(_ given: JSONValue, on defaults: JSONValue) -> JSONValue {
        guard case .object(let given) = given, case .object(var merged) = defaults else { return given }
        for (key, value) in given { merged[key] = merged[key].map { overlay(value, on: $0) } ?? value }
        return .object(merged)
    }

    private static func json(of value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// The location of the deepest known node on `relativePath`.
    func location(of relativePath: [String]) -> SourceLocation? {
        var keys = relativePath
        while true {
            if let found = locations[Self.join(keys)] { return found }
            if keys.isEmpty { return nil }
            keys.removeLast()
        }
    }

    static func join(_ keys: [String]) -> String {
        keys.reduce(into: "") { path, key in
            if key.hasPrefix("[") { path += key } else { path += path.isEmpty ? key : ".\(key)" }
        }
    }
}

/// A plugin's settings do not fit its type: `FILE:LINE:COL: path: message`.
public struct PluginSettingsError: Error, Sendable, CustomStringConvertible {
    public let location: SourceLocation?
    public let path: String
    public let message: String

    public init(location: SourceLocation?, path: String, message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    init(decodingError: DecodingError, settings: PluginSettings) {
        func keys(_ codingPath: [any CodingKey]) -> [String] {
            codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            self.init(keys: keys(context.codingPath), message: "missing key '\(key.stringValue)'", settings: settings)
        case .typeMismatch(let type, let context):
            self.init(keys: keys(context.codingPath), message: "expected \(Self.kind(of: type))", settings: settings)
        case .valueNotFound(let type, let context):
            self.init(
                keys: keys(context.codingPath), message: "expected \(Self.kind(of: type)), found nothing", settings: settings)
        case .dataCorrupted(let context):
            self.init(keys: keys(context.codingPath), message: context.debugDescription, settings: settings)
        @unknown default:
            self.init(keys: [], message: "\(decodingError)", settings: settings)
        }
    }

    /// A problem at `keys` below the settings block, located at its deepest known node.
    init(keys: [String], message: String, settings: PluginSettings) {
        let relative = PluginSettings.join(keys)
        self.init(
            location: settings.location(of: keys),
            path: relative.isEmpty ? settings.path : settings.path + (relative.hasPrefix("[") ? relative : ".\(relative)"),
            message: message
        )
    }

    private static func kind(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }

    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)\(path): \(message)"
    }
}
