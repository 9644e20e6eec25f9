import BotHostKit
import Yams

/// Turns manifest text into a YAML node tree, or into one problem that points at the line
/// and column where the YAML went wrong.
///
/// The messages are built from libyaml's `problem`, `context` and `mark` only, never from
/// `YamlError.description`: that quotes the offending line, and its `yaml` value holds
/// the whole file, so either could print a token.
enum ManifestYAML {
    /// The root node, `nil` for a file that holds no document (empty, or only comments).
    static func compose(_ text: String, file: String) throws(ManifestError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestError(problems: [problem(for: error, in: text, file: file)])
        } catch {
            throw ManifestError(problems: [ManifestProblem(wholeFile: file, message: "cannot parse the YAML")])
        }
    }

    private static func problem(for error: YamlError, in text: String, file: String) -> ManifestProblem {
        func at(_ line: Int, _ column: Int, _ message: String) -> ManifestProblem {
            ManifestProblem(
                location: SourceLocation(file: file, line: line, column: column),
                path: ManifestProblem.wholeFilePath, message: message
            )
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if let tabColumn = indentationTabColumn(line: mark.line, in: text) {
                return at(mark.line, tabColumn, "a tab in the indentation; YAML indents with spaces only")
            }
            if problem.hasPrefix("Maximum nesting level") {
                return at(mark.line, mark.column, "the YAML is nested too deeply")
            }
            if problem == "but found another document" {
                return at(mark.line, mark.column, "a second YAML document; a manifest is a single document")
            }
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return at(mark.line, mark.column, "YAML syntax error: \(problem)\(during)")
        case .reader(let problem, let offset, _, _):
            let (line, column) = offset.map { position(ofCharacterOffset: $0, in: text) } ?? (1, 1)
            return at(line, column, "YAML syntax error: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { SafeQuote.quoted($0) ?? "<key>" }.joined(separator: ", ")
            let subject = duplicates.count == 1 ? "the key \(keys) appears" : "the keys \(keys) appear"
            return at(context.mark.line, context.mark.column, "\(subject) more than once in this mapping")
        default:
            return ManifestProblem(wholeFile: file, message: "cannot parse the YAML")
        }
    }

    /// The 1-based column of a tab in the leading whitespace of `line`, if there is one.
    ///
    /// libyaml reports a tab used for indentation as "found character that cannot start
    /// any token" or "found a tab character that violates indentation"; naming the tab
    /// saves the operator from hunting for an invisible character.
    private static func indentationTabColumn(line: Int, in text: String) -> Int? {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard lines.indices.contains(line - 1) else { return nil }
        let content = lines[line - 1]
        let indentation = content.prefix { $0 == " " || $0 == "\t" }
        return indentation.firstIndex(of: "\t").map { content.distance(from: content.startIndex, to: $0) + 1 }
    }

    /// Line and column (1-based) of the character at `offset`, as `YamlError.reader` counts it.
    private static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
