package import BotHostKit

/// One thing wrong with a manifest, printed as `FILE:LINE:COL: path: message`.
///
/// Operators fix manifests from this line alone (editors and CI annotate it), so it always
/// points at a place: the offending node, or line 1, column 1 with the path `manifest`
/// when the whole file is at fault. The message never contains a token, however the
/// manifest got it wrong.
package struct ManifestProblem: Sendable, Hashable, CustomStringConvertible {
    package var location: SourceLocation
    /// The manifest path of the offending value, such as `bots[1].retry.max_delay`.
    package var path: String
    package var message: String

    package init(location: SourceLocation, path: String, message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    /// A problem with the file as a whole: it cannot be read, or is not a YAML manifest.
    package init(wholeFile file: String, message: String) {
        self.init(location: SourceLocation(file: file, line: 1, column: 1), path: Self.wholeFilePath, message: message)
    }

    /// The path named by problems that concern the whole file or its YAML syntax.
    package static let wholeFilePath = "manifest"

    package var description: String { "\(location): \(path): \(message)" }

    /// Whether `a` comes before `b` in the file.
    package static func inFileOrder(_ a: ManifestProblem, _ b: ManifestProblem) -> Bool {
        (a.location.line, a.location.column) < (b.location.line, b.location.column)
    }
}

/// Everything wrong with a manifest, not just the first problem, so that one run of
/// `bothost validate` shows the operator all there is to fix.
package struct ManifestError: Error, Sendable, CustomStringConvertible {
    /// In the order of their place in the file.
    package var problems: [ManifestProblem]

    package init(problems: [ManifestProblem]) {
        self.problems = problems
    }

    /// One `FILE:LINE:COL: path: message` line per problem.
    package var description: String { problems.map(\.description).joined(separator: "\n") }
}
