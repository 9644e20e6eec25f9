public import Foundation

/// The machine-readable Bot API description (`api.json`): methods and types with their
/// fields, as the generator reads it.
public struct BotAPISpec: Decodable, Sendable {
    public struct Field: Decodable, Sendable {
        public var name: String
        public var types: [String]
        public var required: Bool
        public var description: String
    }

    public struct TypeDefinition: Decodable, Sendable {
        public var name: String
        public var href: String
        public var fields: [Field]?
        public var subtypes: [String]?
        // swift-format-ignore: AlwaysUseLowerCamelCase
        public var subtype_of: [String]?
    }

    public struct Method: Decodable, Sendable {
        public var name: String
        public var href: String
        public var returns: [String]
        public var fields: [Field]?
    }

    public var version: String
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public var release_date: String
    public var methods: [String: Method]
    public var types: [String: TypeDefinition]

    public init(contentsOf url: URL) throws {
        self = try JSONDecoder().decode(BotAPISpec.self, from: Data(contentsOf: url))
    }
}
