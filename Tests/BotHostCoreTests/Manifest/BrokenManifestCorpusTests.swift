import Foundation
import Testing

@testable import BotHostCore

/// Each `Fixtures/manifests/broken/NAME.yaml` must fail with exactly the lines of its
/// `NAME.expected`, where `FILE` stands for the manifest's path and `DIR` for its directory.
@Suite struct BrokenManifestCorpusTests {
    static let cases = ManifestFixtures.manifests(in: ManifestFixtures.brokenDirectory)

    @Test func theCorpusIsLargeAndComplete() throws {
        #expect(Self.cases.count >= 30)
        for name in Self.cases {
            let expected = ManifestFixtures.brokenDirectory.appendingPathComponent(expectedName(name))
            #expect(FileManager.default.fileExists(atPath: expected.path), "\(name) has no .expected file")
        }
    }

    @Test(arguments: cases) func failsWithTheExpectedProblems(name: String) throws {
        let path = ManifestFixtures.brokenDirectory.appendingPathComponent(name).path
        let expectedFile = ManifestFixtures.brokenDirectory.appendingPathComponent(expectedName(name))
        let expected = try String(contentsOf: expectedFile, encoding: .utf8)
            .split(separator: "\n")
            .map {
                $0.replacingOccurrences(of: "FILE", with: path)
                    .replacingOccurrences(of: "DIR", with: ManifestFixtures.brokenDirectory.path)
            }

        let lines = ManifestFixtures.problemLines(path)

        #expect(lines == expected)
        for line in lines {
            #expect(!line.contains(ManifestFixtures.canary), "a message shows a token secret: \(line)")
        }
    }

    private func expectedName(_ name: String) -> String {
        String(name.dropLast(".yaml".count)) + ".expected"
    }
}
