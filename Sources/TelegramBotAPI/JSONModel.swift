public import Foundation

/// A Bot API object: read from a parsed ``JSONValue`` and written back to one.
///
/// Every generated type conforms. Decoding stays on the host's fast path (one parse of
/// the answer into a ``JSONValue``, then one pass over each object's keys); `Codable`
/// goes through the same two functions, so both ways agree.
public protocol JSONModel: JSONValueDecodable, JSONValueEncodable, Codable, Sendable, Hashable {}

/// A value written to JSON, collecting the files it holds for a multipart upload.
public protocol JSONValueEncodable {
    /// The value as JSON. A local file (``InputFile/path(_:fileName:contentType:)``,
    /// ``InputFile/bytes(_:fileName:contentType:)``) inside the value is added to `files`
    /// and written as the `attach://<name>` reference Telegram expects.
    func encodeJSON(into files: inout InputFileAttachments) -> JSONValue
}

extension JSONValueEncodable {
    /// The value as JSON; local files become `attach://` references to nothing.
    public var json: JSONValue {
        var files = InputFileAttachments()
        return encodeJSON(into: &files)
    }
}

extension JSONModel {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// Reads JSON text.
    public init(jsonText: some ContiguousBytes) throws {
        try self.init(json: JSONValue(parsing: jsonText))
    }
}

/// The local files of one request, in the order they were met, each with the name of its
/// multipart part.
public struct InputFileAttachments: Sendable {
    public private(set) var files: [(name: String, file: InputFile)] = []

    public init() {}

    /// Adds a local file and returns the name of its part: `file0`, `file1`, ...
    mutating func attach(_ file: InputFile) -> String {
        let name = "file\(files.count)"
        files.append((name, file))
        return name
    }

    /// Adds a top-level file parameter under its own name, as Telegram reads `photo`.
    mutating func attach(_ file: InputFile, as name: String) {
        files.append((name, file))
    }

    public var isEmpty: Bool { files.isEmpty }
}

/// A field holding one object, kept in a box so that the struct holding it stays small
/// (a message inside a message, twenty kinds of objects inside an update) and so that
/// types may contain themselves.
@propertyWrapper
public struct Boxed<Value: Sendable & Hashable>: Sendable, Hashable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    public init(wrappedValue: Value) {
        box = Box(wrappedValue)
    }

    public var wrappedValue: Value {
        get { box.value }
        set { box = Box(newValue) }
    }

    public static func == (left: Self, right: Self) -> Bool {
        left.box === right.box || left.box.value == right.box.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.value)
    }
}

/// ``Boxed`` for an optional field: `nil` costs no allocation.
@propertyWrapper
public struct OptionalBoxed<Value: Sendable & Hashable>: Sendable, Hashable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box?

    public init(wrappedValue: Value?) {
        box = wrappedValue.map(Box.init)
    }

    public var wrappedValue: Value? {
        get { box?.value }
        set { box = newValue.map(Box.init) }
    }

    public static func == (left: Self, right: Self) -> Bool {
        left.box === right.box || left.box?.value == right.box?.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(box?.value)
    }
}

/// Every generated type by its spec name (``all``, for tests).
package enum BotAPITypes {}

/// One Bot API method as the spec describes it.
public struct BotAPIMethod: Sendable, Hashable {
    public let name: String
    /// Parameters that must be present, by their wire names (`chat_id`).
    public let required: [String]
    public let optional: [String]
    /// Parameters that take an ``InputFile``.
    public let files: [String]
    /// The spec's result type, such as `Message`, `Boolean` or `Array of Update`.
    public let returns: String

    public init(name: String, required: [String], optional: [String], files: [String], returns: String) {
        self.name = name
        self.required = required
        self.optional = optional
        self.files = files
        self.returns = returns
    }

    /// Every method name.
    public static var allNames: [String] { all.map(\.name) }

    /// The method called `name`, compared as Telegram does, ignoring case.
    public static func named(_ name: String) -> BotAPIMethod? {
        byName[name] ?? byLowercasedName[name.lowercased()]
    }

    /// By the name as the spec spells it: every call of ``BotAPIClient`` is found here
    /// without lowercasing its name.
    private static let byName: [String: BotAPIMethod] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    private static let byLowercasedName: [String: BotAPIMethod] = Dictionary(
        all.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
}
