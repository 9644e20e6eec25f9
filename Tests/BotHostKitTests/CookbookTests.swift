import Foundation
import Testing

/// The cookbook (`BotHostKit.docc/Cookbook.md`) shows pieces of a bot that is compiled and
/// tested: `examples/custom-plugin`'s `Counter`. Every snippet must be in those files as
/// written, its `// ...` lines standing for code the snippet leaves out.
@Suite struct CookbookTests {
    private static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static func text(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// The non-empty lines of `text`, without their indentation.
    private static func lines(_ text: some StringProtocol) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test func everySnippetIsInTheExampleAsWritten() throws {
        let article = try Self.text("Sources/BotHostKit/BotHostKit.docc/Cookbook.md")
        let example = try Self.text("examples/custom-plugin/Sources/Counter/Counter.swift")
        let tests = try Self.text("examples/custom-plugin/Tests/CounterTests/CounterTests.swift")
        let snippets = article.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(snippets.count == 8)
        for snippet in snippets {
            let source = Self.lines(snippet).contains { $0.hasPrefix("#expect") } ? tests : example
            var rest = Self.lines(source)[...]
            for piece in snippet.components(separatedBy: "// ...\n") {
                let wanted = Self.lines(piece)
                guard !wanted.isEmpty else { continue }
                let start = rest.indices.first { rest[$0...].starts(with: wanted) }
                #expect(start != nil, "not in the example as written, after what came before:\n\(piece)")
                guard let start else { break }
                rest = rest[(start + wanted.count)...]
            }
        }
    }
}
