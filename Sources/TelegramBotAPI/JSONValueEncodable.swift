// How generated models read their fields and write themselves back.

/// The fields of a JSON object that should become a `model`.
func jsonObject(_ json: JSONValue, of model: Any.Type) throws -> [String: JSONValue] {
    guard case .object(let fields) = json else {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(model) is not a JSON object"))
    }
    return fields
}

// The helpers below are called once per field of every generated type; they are kept out
// of line so that each is compiled once per value type rather than once per field (which
// made the optimized module several times larger and minutes slower to build).

/// One field's value: `nil` for `null`; a `DecodingError` names `key` in its path.
@inline(never)
func decodeField<Value: JSONValueDecodable>(_ value: JSONValue, _ key: String) throws -> Value? {
    if case .null = value { return nil }
    do {
        return try Value(json: value)
    } catch let error as DecodingError {
        throw error.prefixed(by: JSONKey(stringValue: key))
    }
}

/// A required field's value; throws when it is missing, `null` or of another type.
@inline(never)
func decodeRequired<Value: JSONValueDecodable>(_ fields: [String: JSONValue], _ key: String) throws -> Value {
    guard let json = fields[key], let value: Value = try decodeField(json, key) else { throw missingField(key) }
    return value
}

/// Writes one field into `object`; `nil` leaves it out.
@inline(never)
func encodeField<Value: JSONValueEncodable>(
    _ object: inout [String: JSONValue], _ key: String, _ value: Value?, _ files: inout InputFileAttachments
) {
    guard let value else { return }
    object[key] = value.encodeJSON(into: &files)
}

/// A required field that is missing or `null`.
func missingField(_ key: String) -> DecodingError {
    .valueNotFound(JSONValue.self, .init(codingPath: [JSONKey(stringValue: key)], debugDescription: "missing"))
}

extension JSONValue: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { self }
}

extension Bool: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { .bool(self) }
}

extension String: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { .string(self) }
}

extension Int: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { .number(Double(self)) }
}

extension Int64: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { .number(Double(self)) }
}

extension Double: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue { .number(self) }
}

extension Array: JSONValueEncodable where Element: JSONValueEncodable {
    public func encodeJSON(into files: inout InputFileAttachments) -> JSONValue {
        var elements: [JSONValue] = []
        elements.reserveCapacity(count)
        for element in self { elements.append(element.encodeJSON(into: &files)) }
        return .array(elements)
    }
}
