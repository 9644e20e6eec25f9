/// A type read straight from a parsed ``JSONValue``.
///
/// Bot API answers are parsed once into a ``JSONValue`` tree, which the models keep as
/// their `raw`; building a model from that tree costs one dictionary lookup per field,
/// where `JSONDecoder` would parse the text again for the typed fields and once more for
/// each `raw`. The models' `init(from:)` go through ``init(json:)`` too, so both ways of
/// decoding agree.
public protocol JSONValueDecodable {
    init(json: JSONValue) throws
}

/// The fields of one JSON object being read into a model. Errors are `DecodingError`s,
/// as `JSONDecoder`'s would be, with the `codingPath` from the outermost model read down
/// to the field that did not fit (``DecodingError/fieldProblem``).
struct JSONFields {
    private let fields: [String: JSONValue]
    private let model: Any.Type

    init(_ value: JSONValue, of model: Any.Type) throws {
        guard case .object(let fields) = value else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(model) is not a JSON object"))
        }
        self.fields = fields
        self.model = model
    }

    var keys: Dictionary<String, JSONValue>.Keys { fields.keys }

    /// The value of `key`; throws if it is missing, `null` or of another type.
    func required<Value: JSONValueDecodable>(_ key: String) throws -> Value {
        guard let value: Value = try optional(key) else {
            throw DecodingError.valueNotFound(
                Value.self, .init(codingPath: [JSONKey(stringValue: key)], debugDescription: "missing"))
        }
        return value
    }

    /// The value of `key`, `nil` if it is missing or `null`; throws if it is of another type.
    func optional<Value: JSONValueDecodable>(_ key: String) throws -> Value? {
        switch fields[key] {
        case nil, .null?: return nil
        case let value?: return try within(JSONKey(stringValue: key)) { try Value(json: value) }
        }
    }
}

/// One step of a `DecodingError`'s `codingPath`: an object's key or an array's index.
struct JSONKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Runs `read`, putting `key` in front of the `codingPath` of a `DecodingError` it throws.
func within<Value>(_ key: some CodingKey, _ read: () throws -> Value) throws -> Value {
    do {
        return try read()
    } catch let error as DecodingError {
        throw error.prefixed(by: key)
    }
}

extension DecodingError {
    func prefixed(by key: some CodingKey) -> DecodingError {
        switch self {
        case .typeMismatch(let type, let context): .typeMismatch(type, context.prefixed(by: key))
        case .valueNotFound(let type, let context): .valueNotFound(type, context.prefixed(by: key))
        case .keyNotFound(let missing, let context): .keyNotFound(missing, context.prefixed(by: key))
        case .dataCorrupted(let context): .dataCorrupted(context.prefixed(by: key))
        @unknown default: self
        }
    }

    /// Where and why a value did not fit its model, for a log line:
    /// `message.from.is_bot: User.is_bot is missing`.
    public var fieldProblem: String {
        let context: Context? =
            switch self {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                .dataCorrupted(let context):
                context
            @unknown default: nil
            }
        guard let context else { return "\(self)" }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        let field = path.hasPrefix(".") ? String(path.dropFirst()) : path
        return field.isEmpty ? context.debugDescription : "\(field): \(context.debugDescription)"
    }
}

extension DecodingError.Context {
    fileprivate func prefixed(by key: some CodingKey) -> DecodingError.Context {
        DecodingError.Context(
            codingPath: [key] + codingPath, debugDescription: debugDescription, underlyingError: underlyingError)
    }
}

/// A value of the wrong JSON type for `expected`.
private func mismatch(_ expected: Any.Type, _ value: JSONValue) -> DecodingError {
    let found =
        switch value {
        case .null: "null"
        case .bool: "a bool"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    return .typeMismatch(expected, .init(codingPath: [], debugDescription: "expected \(expected), found \(found)"))
}

extension JSONValue: JSONValueDecodable {
    public init(json: JSONValue) { self = json }
}

extension Bool: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .bool(let value) = json else { throw mismatch(Bool.self, json) }
        self = value
    }
}

extension String: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .string(let value) = json else { throw mismatch(String.self, json) }
        self = value
    }
}

extension Int64: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .number(let number) = json, let value = Int64(exactly: number) else { throw mismatch(Int64.self, json) }
        self = value
    }
}

extension Int: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .number(let number) = json, let value = Int(exactly: number) else { throw mismatch(Int.self, json) }
        self = value
    }
}

extension Double: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .number(let value) = json else { throw mismatch(Double.self, json) }
        self = value
    }
}

extension Array: JSONValueDecodable where Element: JSONValueDecodable {
    public init(json: JSONValue) throws {
        guard case .array(let elements) = json else { throw mismatch(Array.self, json) }
        self = try elements.enumerated().map { index, element in
            try within(JSONKey(intValue: index)) { try Element(json: element) }
        }
    }
}
