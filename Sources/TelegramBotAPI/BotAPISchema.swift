/// The spec's field lists (``BotAPITypes/schema``), read for the emulator, which answers
/// every method with an object of the right shape, and for tests, which build a sample of
/// every type.
package struct BotAPISchema: Sendable {
    package struct Field: Sendable {
        package var name: String
        /// The spec's types: `Integer`, `Array of MessageEntity`, ...
        package var types: [String]
        package var required: Bool
        /// The value the field always has (a union member's `type`), if any.
        package var constant: String?
    }

    package enum Definition: Sendable {
        case object([Field])
        case union([String])
    }

    package let definitions: [String: Definition]

    package static let shared = BotAPISchema(BotAPITypes.schema)

    init(_ text: String) {
        var definitions: [String: Definition] = [:]
        for line in text.split(separator: "\n") {
            let items = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard let name = items.first else { continue }
            let rest = items.dropFirst()
            if let first = rest.first, first.hasPrefix("=") {
                definitions[name] = .union(rest.map { String($0.dropFirst()) })
            } else {
                definitions[name] = .object(
                    rest.map { item in
                        let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                        return Field(
                            name: parts[0], types: parts[1].split(separator: "/").map(String.init),
                            required: parts[2] == "r", constant: parts.count > 3 ? parts[3] : nil)
                    })
            }
        }
        self.definitions = definitions
    }

    /// A value of the spec type `type` (`Message`, `Array of PhotoSize`, `Integer`): every
    /// required field present, and at the top level (`depth` 0) the optional ones too
    /// when `optionalFields` says so. Deeper than a few levels, optional fields stay out.
    package func sample(of type: String, optionalFields: Bool = false, depth: Int = 0) -> JSONValue {
        if type.hasPrefix("Array of ") {
            return .array([sample(of: String(type.dropFirst("Array of ".count)), depth: depth + 1)])
        }
        switch type {
        case "Integer": return .number(1)
        case "Float": return .number(1.5)
        case "String": return .string("text")
        case "Boolean", "True": return .bool(true)
        case "InputFile": return .string("file-id")
        default: break
        }
        switch definitions[type] {
        case .union(let members)?:
            return members.first.map { sample(of: $0, optionalFields: optionalFields, depth: depth) } ?? .null
        case .object(let fields)?:
            var object: [String: JSONValue] = [:]
            for field in fields where field.required || (optionalFields && depth == 0) {
                if let constant = field.constant {
                    object[field.name] = field.types == ["Integer"] ? .number(Double(constant) ?? 0) : .string(constant)
                } else {
                    object[field.name] = sample(of: field.types[0], depth: depth + 1)
                }
            }
            return .object(object)
        case nil:
            return .null
        }
    }
}
