// How generated models read their fields and write themselves back.

/// The fields of a JSON object that should become a `model`.
func jsonObject(_ json: JSONValue, of model: Any.Type) throws -> [String: JSONValue] {
    guard case .object(let fields) = json else {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(model) is not a JSON object"))
    }
    return fields
}

/// One field's value: `nil` for `null`; a `DecodingError` names `key` in its path.
@inline(__always)
func decodeField<Value: JSONValueDecodable>(_ value: JSONValue, _ key: String) throws -> Value? {
    if case .null = value { return nil }
    return try within(JSONKey(stringValue: key)) { try Value(json: value) }
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
