import BotHostKit
import Yams

/// The keys one mapping of the manifest may hold.
protocol ManifestKey: RawRepresentable<String>, CaseIterable, Hashable {}

/// One node of the manifest with the path that names it in messages.
struct ManifestNode {
    let node: Node
    /// Such as `bots[1].retry`; empty for the root.
    let path: String
    /// How many mappings and lists hold this node; the root's depth is 0.
    let depth: Int

    static func root(_ node: Node) -> ManifestNode { ManifestNode(node: node, path: "", depth: 0) }

    /// A key that might be secret (see ``SafeQuote``) reads as `<key>` in the path.
    func child(_ key: String, _ node: Node) -> ManifestNode {
        let name = SafeQuote.quoted(key) == nil ? "<key>" : key
        return ManifestNode(node: node, path: path.isEmpty ? name : "\(path).\(name)", depth: depth + 1)
    }

    func element(_ index: Int, _ node: Node) -> ManifestNode {
        ManifestNode(node: node, path: "\(path)[\(index)]", depth: depth + 1)
    }
}

/// The values of one mapping by key.
struct ManifestFields<Key: ManifestKey> {
    /// The mapping these fields were read from.
    let mapping: ManifestNode
    fileprivate(set) var values: [Key: ManifestNode] = [:]

    subscript(key: Key) -> ManifestNode? { values[key] }
}

/// Reads typed values out of the manifest's YAML nodes and collects a problem, with the
/// node's line and column, for each one that does not fit.
///
/// Every reading method returns `nil` after reporting, and reading goes on: the
/// operator sees every problem of the file at once. Values are quoted back only through
/// ``SafeQuote``, because any of them might be a misplaced token.
final class ManifestReader {
    /// Deeper than this is surely a mistake, and walking it could exhaust the stack.
    static let maxDepth = 64
    /// Values that `settings:` blocks may hold in all; YAML aliases can make a few lines
    /// of text expand to billions of values.
    static let maxSettingsValues = 100_000

    let file: String
    private(set) var problems: [ManifestProblem] = []
    /// What is left of ``maxSettingsValues``.
    var settingsValueBudget = maxSettingsValues

    init(file: String) {
        self.file = file
    }

    func location(of node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func report(_ message: String, at value: ManifestNode) {
        report(message, at: value.node, path: value.path)
    }

    func report(_ message: String, at node: Node, path: String) {
        let path = path.isEmpty ? ManifestProblem.wholeFilePath : path
        problems.append(ManifestProblem(location: location(of: node), path: path, message: message))
    }

    func reportMismatch(expected: String, at value: ManifestNode) {
        report("expected \(expected), found \(Self.describe(value.node))", at: value)
    }

    func reportMissing(_ key: some ManifestKey, in mapping: ManifestNode) {
        report("missing key '\(key.rawValue)'", at: mapping)
    }

    // MARK: Mappings and lists

    /// The mapping's values by key; each key that is not a `Key` is reported, with the
    /// nearest known key as a hint.
    func fields<Key: ManifestKey>(of value: ManifestNode, as _: Key.Type = Key.self) -> ManifestFields<Key>? {
        guard case .mapping(let mapping) = value.node else {
            reportMismatch(expected: "a mapping", at: value)
            return nil
        }
        var fields = ManifestFields<Key>(mapping: value)
        for (keyNode, valueNode) in mapping {
            guard let name = keyName(keyNode, in: value) else { continue }
            guard let key = Key(rawValue: name) else {
                reportUnknownKey(name, at: keyNode, in: value, known: Key.allCases.map(\.rawValue))
                continue
            }
            fields.values[key] = value.child(name, valueNode)
        }
        return fields
    }

    /// The text of a mapping key, or `nil` (reported) for a key that is not a plain name.
    func keyName(_ keyNode: Node, in mapping: ManifestNode) -> String? {
        guard case .scalar(let scalar) = keyNode, Self.tag(of: keyNode) != .null else {
            report("expected a key name, found \(Self.describe(keyNode))", at: keyNode, path: mapping.path)
            return nil
        }
        if Self.tag(of: keyNode) == .merge {
            let message = "YAML merge keys ('<<') are not supported; shared bot keys go under 'defaults'"
            report(message, at: keyNode, path: mapping.path)
            return nil
        }
        return scalar.string
    }

    private func reportUnknownKey(_ name: String, at keyNode: Node, in mapping: ManifestNode, known: [String]) {
        let path = mapping.child(name, keyNode).path
        if let hint = NearestName.nearest(to: name, among: known) {
            report("unknown key; did you mean '\(hint)'?", at: keyNode, path: path)
        } else {
            report("unknown key; known keys: \(known.joined(separator: ", "))", at: keyNode, path: path)
        }
    }

    func list(_ value: ManifestNode) -> [ManifestNode]? {
        guard case .sequence(let sequence) = value.node else {
            reportMismatch(expected: "a list", at: value)
            return nil
        }
        return sequence.enumerated().map { value.element($0.offset, $0.element) }
    }

    // MARK: Scalars

    /// The text of any scalar but null: names, plugin names, URLs, token strings.
    func string(_ value: ManifestNode) -> String? {
        guard case .scalar(let scalar) = value.node, Self.tag(of: value.node) != .null else {
            reportMismatch(expected: "a string", at: value)
            return nil
        }
        return scalar.string
    }

    func integer(_ value: ManifestNode, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = value.node, Self.tag(of: value.node) == .int else {
            reportMismatch(expected: "an integer", at: value)
            return nil
        }
        guard let integer = Int.construct(from: scalar), range.contains(integer) else {
            report("must be \(Self.describe(range, unbounded: .max, String.init)) (found \(scalar.string))", at: value)
            return nil
        }
        return integer
    }

    func number(_ value: ManifestNode, in range: ClosedRange<Double>) -> Double? {
        guard case .scalar(let scalar) = value.node, [.int, .float].contains(Self.tag(of: value.node)),
            let number = Double.construct(from: scalar) ?? Int.construct(from: scalar).map(Double.init)
        else {
            reportMismatch(expected: "a number", at: value)
            return nil
        }
        guard number.isFinite else {
            report("must be a finite number", at: value)
            return nil
        }
        guard range.contains(number) else {
            report("must be \(Self.describe(range, unbounded: .infinity, { "\($0)" })) (found \(scalar.string))", at: value)
            return nil
        }
        return number
    }

    func bool(_ value: ManifestNode) -> Bool? {
        guard case .scalar(let scalar) = value.node, Self.tag(of: value.node) == .bool, let bool = Bool.construct(from: scalar)
        else {
            reportMismatch(expected: "true or false", at: value)
            return nil
        }
        return bool
    }

    func duration(_ value: ManifestNode, in range: ClosedRange<Duration> = .zero...DurationSyntax.longest) -> Duration? {
        guard case .scalar(let scalar) = value.node, ![.null, .bool].contains(Self.tag(of: value.node)) else {
            reportMismatch(expected: "a duration (\(DurationSyntax.examples))", at: value)
            return nil
        }
        switch DurationSyntax.parse(scalar.string) {
        case .failure(.malformed):
            reportMismatch(expected: "a duration (\(DurationSyntax.examples))", at: value)
        case .failure(.negative):
            report("a duration cannot be negative", at: value)
        case .failure(.tooLong):
            report("a duration must be at most \(DurationSyntax.longestDescription)", at: value)
        case .success(let duration) where !range.contains(duration):
            let bounds = Self.describe(range, unbounded: DurationSyntax.longest, formatDuration)
            report("must be \(bounds) (found \(formatDuration(duration)))", at: value)
        case .success(let duration):
            return duration
        }
        return nil
    }

    /// One of the cases of `Choice`, such as `on_locked: fail`.
    func choice<Choice: RawRepresentable<String> & CaseIterable>(_ value: ManifestNode, of _: Choice.Type) -> Choice? {
        guard let text = string(value) else { return nil }
        if let choice = Choice(rawValue: text) { return choice }
        let names = Choice.allCases.map(\.rawValue)
        let hint = NearestName.nearest(to: text, among: names).map { "; did you mean '\($0)'?" } ?? ""
        report("expected \(Self.alternatives(names)), found \(Self.describe(value.node))\(hint)", at: value)
        return nil
    }

    // MARK: Describing nodes

    static func tag(of node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    /// What a node is, for "expected …, found …": the value itself when it is safe to
    /// show (``SafeQuote``), otherwise its kind.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch tag(of: node) {
            case .null: return "nothing"
            case .bool: return "'\(scalar.string)'"
            case .int: return SafeQuote.quoted(scalar.string).map { "the integer \($0)" } ?? "an integer"
            case .float: return SafeQuote.quoted(scalar.string).map { "the number \($0)" } ?? "a number"
            default: return scalar.string.isEmpty ? "an empty string" : SafeQuote.quoted(scalar.string) ?? "a string"
            }
        }
    }

    /// `a, b or c`.
    static func alternatives(_ names: [String]) -> String {
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    private static func describe<Bound>(_ range: ClosedRange<Bound>, unbounded: Bound, _ format: (Bound) -> String) -> String {
        range.upperBound == unbounded
            ? "at least \(format(range.lowerBound))"
            : "between \(format(range.lowerBound)) and \(format(range.upperBound))"
    }
}
