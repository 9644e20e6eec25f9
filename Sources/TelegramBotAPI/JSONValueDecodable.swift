/// A type read straight from a parsed ``JSONValue``.
///
/// Bot API answers are parsed once into a ``JSONValue`` tree, which the models keep as
/// their `raw`; building a model from that tree costs one dictionary lookup per field,
/// where `JSONDecoder` would parse the text again for the typed fields and once more for
/// each `raw`. The models' `init(from:)` go through ``init(json:)`` too, so both ways of
/// decoding agree.
protocol JSONValueDecodable {
    init(json: JSONValue) throws
}

/// The fields of one JSON object being read into a model. Errors are `DecodingError`s,
/// as `JSONDecoder`'s would be.
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
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(model).\(key) is missing"))
        }
        return value
    }

    /// The value of `key`, `nil` if it is missing or `null`; throws if it is of another type.
    func optional<Value: JSONValueDecodable>(_ key: String) throws -> Value? {
        switch fields[key] {
        case nil, .null?: return nil
        case let value?: return try Value(json: value)
        }
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
    init(json: JSONValue) { self = json }
}

extension Bool: JSONValueDecodable {
    init(json: JSONValue) throws {
        guard case .bool(let value) = json else { throw mismatch(Bool.self, json) }
        self = value
    }
}

extension String: JSONValueDecodable {
    init(json: JSONValue) throws {
        guard case .string(let value) = json else { throw mismatch(String.self, json) }
        self = value
    }
}

extension Int64: JSONValueDecodable {
    init(json: JSONValue) throws {
        guard case .number(let number) = json, let value = Int64(exactly: number) else { throw mismatch(Int64.self, json) }
        self = value
    }
}

extension Int: JSONValueDecodable {
    init(json: JSONValue) throws {
        guard case .number(let number) = json, let value = Int(exactly: number) else { throw mismatch(Int.self, json) }
        self = value
    }
}

extension Array: JSONValueDecodable where Element: JSONValueDecodable {
    init(json: JSONValue) throws {
        guard case .array(let elements) = json else { throw mismatch(Array.self, json) }
        self = try elements.map(Element.init(json:))
    }
}
