import BotHostKit
import TelegramBotAPI
import Yams

extension ManifestReader {
    /// A `settings:` block as JSON for its plugin, with the location of every value in it,
    /// so that the plugin's decoding errors can point into the manifest too.
    ///
    /// Any YAML is accepted; an empty `settings:` is an empty object. What cannot become
    /// JSON (non-finite numbers, keys that are not names, two keys that become the same
    /// string) is reported here, as are blocks nested deeper than ``maxDepth`` and more
    /// values than ``maxSettingsValues``.
    func pluginSettings(_ value: ManifestNode) -> PluginSettings? {
        var locations: [String: SourceLocation] = [:]
        let json: JSONValue?
        if Self.tag(of: value.node) == .null {
            locations[""] = location(of: value.node)
            json = .object([:])
        } else {
            json = jsonValue(value, relativePath: "", locations: &locations)
        }
        return json.map { PluginSettings(value: $0, path: value.path, locations: locations) }
    }

    private func jsonValue(_ value: ManifestNode, relativePath: String, locations: inout [String: SourceLocation]) -> JSONValue? {
        guard value.depth <= Self.maxDepth else {
            report("nested more than \(Self.maxDepth) levels deep", at: value)
            return nil
        }
        guard settingsValueBudget > 0 else {
            if settingsValueBudget == 0 {
                report("settings hold more than \(Self.maxSettingsValues) values in all (YAML aliases?)", at: value)
                settingsValueBudget = -1
            }
            return nil
        }
        settingsValueBudget -= 1
        locations[relativePath] = location(of: value.node)

        switch value.node {
        case .scalar(let scalar):
            return jsonScalar(scalar, at: value)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            var valid = true
            for (index, node) in sequence.enumerated() {
                let element = value.element(index, node)
                if let json = jsonValue(element, relativePath: "\(relativePath)[\(index)]", locations: &locations) {
                    elements.append(json)
                } else {
                    valid = false
                }
            }
            return valid ? .array(elements) : nil
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            var valid = true
            for (keyNode, node) in mapping {
                guard let key = keyName(keyNode, in: value) else {
                    valid = false
                    continue
                }
                let child = value.child(key, node)
                guard object[key] == nil else {
                    report("duplicate key: two keys here read as the same string", at: keyNode, path: child.path)
                    valid = false
                    continue
                }
                let childPath = relativePath.isEmpty ? key : "\(relativePath).\(key)"
                if let json = jsonValue(child, relativePath: childPath, locations: &locations) {
                    object[key] = json
                } else {
                    valid = false
                }
            }
            return valid ? .object(object) : nil
        case .alias:
            report("unresolved YAML alias", at: value)
            return nil
        }
    }

    private func jsonScalar(_ scalar: Node.Scalar, at value: ManifestNode) -> JSONValue? {
        switch Self.tag(of: value.node) {
        case .null:
            return .null
        case .bool:
            return Bool.construct(from: scalar).map(JSONValue.bool)
        case .int, .float:
            guard let number = Double.construct(from: scalar) ?? Int.construct(from: scalar).map(Double.init), number.isFinite
            else {
                report("expected a finite number (JSON has no infinity or NaN)", at: value)
                return nil
            }
            return .number(number)
        default:
            return .string(scalar.string)
        }
    }
}
