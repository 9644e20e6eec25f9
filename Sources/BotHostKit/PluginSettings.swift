import Foundation
import TelegramBotAPI

/// The `settings:` block a manifest gives one bot, for its plugin to decode.
///
/// The host does not know a plugin's settings type, so it hands over the raw tree
/// together with where each value stands in the manifest. ``decode(_:)`` turns a
/// `DecodingError` into a ``PluginSettingsError`` that names the manifest's file, line
/// and key, just like the host's own manifest errors.
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
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(PluginSettingsError) -> T {
        do {
            let data = try JSONEncoder().encode(value)
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw PluginSettingsError(decodingError: error, settings: self)
        } catch {
            throw PluginSettingsError(location: locations[""], path: path, message: "\(error)")
        }
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
        let message: String
        let relative: [String]
        switch decodingError {
        case .keyNotFound(let key, let context):
            relative = keys(context.codingPath)
            message = "missing key '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            relative = keys(context.codingPath)
            message = "expected \(Self.kind(of: type))"
        case .valueNotFound(let type, let context):
            relative = keys(context.codingPath)
            message = "expected \(Self.kind(of: type)), found nothing"
        case .dataCorrupted(let context):
            relative = keys(context.codingPath)
            message = context.debugDescription
        @unknown default:
            relative = []
            message = "\(decodingError)"
        }
        let full = PluginSettings.join(relative)
        self.init(
            location: settings.location(of: relative),
            path: full.isEmpty ? settings.path : settings.path + (full.hasPrefix("[") ? full : ".\(full)"),
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
