import Foundation
import TelegramBotAPI
import Testing

@testable import BotHostCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Manifests too large, too deep or too strange to keep as fixtures, made in a temporary
/// directory for each test, removed after it.
@Suite final class GeneratedManifestTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ name: String, _ contents: String) throws -> String {
        try write(name, Data(contents.utf8))
    }

    private func write(_ name: String, _ contents: Data) throws -> String {
        let url = directory.appendingPathComponent(name)
        try contents.write(to: url)
        return url.path
    }

    /// A valid manifest whose one bot carries `settings`, indented for the bot entry.
    private func manifest(settings: String) -> String {
        """
        version: 1
        bots:
          - name: support
            token: "1001:AAHleakCANARYleakCANARYleakCANARY1001"
            plugin: echo
            settings: \(settings)

        """
    }

    @Test func aFileLargerThanOneMebibyteIsRefusedBeforeParsing() throws {
        let line = "# \(String(repeating: "x", count: 1021))\n"
        let path = try write("huge.yaml", String(repeating: line, count: 5 * 1024))

        #expect(
            ManifestFixtures.problemLines(path) == ["\(path):1:1: manifest: cannot read the manifest: it is larger than 1 MiB"])
    }

    @Test func aBinaryFileIsRefused() throws {
        let path = try write("logo.yaml", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]))

        #expect(
            ManifestFixtures.problemLines(path)
                == ["\(path):1:1: manifest: cannot read the manifest: it is a binary file (it contains NUL bytes), not text"]
        )
    }

    @Test func aFileThatIsNotUTF8IsRefused() throws {
        let path = try write("latin1.yaml", Data("version: 1\nname: caf".utf8) + Data([0xE9, 0x0A]))

        #expect(ManifestFixtures.problemLines(path) == ["\(path):1:1: manifest: cannot read the manifest: it is not UTF-8 text"])
    }

    @Test func aDirectoryIsRefused() throws {

        #expect(
            ManifestFixtures.problemLines(directory.path)
                == ["\(directory.path):1:1: manifest: cannot read the manifest: it is a directory, not a file"]
        )
    }

    @Test func aMissingFileIsReported() throws {
        let path = directory.appendingPathComponent("absent.yaml").path

        #expect(ManifestFixtures.problemLines(path) == ["\(path):1:1: manifest: cannot read the manifest: no such file"])
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let path = directory.appendingPathComponent("pipe.yaml").path
        try #require(mkfifo(path, 0o600) == 0)

        #expect(
            ManifestFixtures.problemLines(path) == ["\(path):1:1: manifest: cannot read the manifest: it is not a regular file"])
    }

    @Test func nestingBeyondWhatLibyamlAcceptsIsAProblemNotACrash() throws {
        let depth = 100_000
        let path = try write(
            "deep-flow.yaml", manifest(settings: String(repeating: "[", count: depth) + String(repeating: "]", count: depth)))

        #expect(ManifestFixtures.problemLines(path) == ["\(path):6:16: manifest: the YAML is nested too deeply"])
    }

    @Test func settingsNestedDeeperThanTheCapAreAProblem() throws {
        // Just under libyaml's own limit of 1000: composing must not exhaust a test thread's stack.
        let depth = 996
        let nested = String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth)
        let path = try write("deep-settings.yaml", manifest(settings: nested))

        let lines = ManifestFixtures.problemLines(path)

        try #require(lines.count == 1)
        // `settings` stands at depth 3 (root, bots, bots[0]); each `a` goes one deeper.
        let settingsPath = "bots[0].settings" + String(repeating: ".a", count: ManifestReader.maxDepth + 1 - 3)
        #expect(lines[0].hasPrefix("\(path):6:"))
        #expect(lines[0].hasSuffix(": \(settingsPath): nested more than \(ManifestReader.maxDepth) levels deep"))
    }

    @Test func blockNestingIsCappedToo() throws {
        let depth = 200
        let nested = (0..<depth).map { String(repeating: "  ", count: $0 + 3) + "k:" }.joined(separator: "\n") + " 1"
        let path = try write("deep-block.yaml", manifest(settings: "\n" + nested))

        let lines = ManifestFixtures.problemLines(path)

        try #require(lines.count == 1)
        #expect(lines[0].hasSuffix("nested more than \(ManifestReader.maxDepth) levels deep"))
    }

    @Test func aliasesThatExpandToBillionsOfValuesAreAProblem() throws {
        var levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1..<9 {
            levels.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let settings = "\n" + levels.map { "      \($0)" }.joined(separator: "\n")
        let path = try write("laughs.yaml", manifest(settings: settings))

        let lines = ManifestFixtures.problemLines(path)

        try #require(lines.count == 1)
        #expect(lines[0].contains("settings hold more than \(ManifestReader.maxSettingsValues) values in all (YAML aliases?)"))
    }

    @Test func aTokenFileWithTrailingWhitespaceAndAnEnvironmentTokenLoad() throws {
        _ = try write("support.token", "  1001:AAHleakCANARYleakCANARYleakCANARY1001 \r\n\n")
        let path = try write(
            "bots.yaml",
            """
            version: 1
            bots:
              - { name: support, token_file: support.token, plugin: echo }
              - { name: sales, token_env: SALES, plugin: echo }
            """
        )

        let manifest = try ManifestFixtures.load(path, environment: ["SALES": "\n2002:AAHleakCANARYleakCANARYleakCANARY2002\n"])

        #expect(manifest.bots.map(\.token.botID) == ["1001", "2002"])
        #expect(manifest.bots[0].token.secretValue == "1001:AAHleakCANARYleakCANARYleakCANARY1001")
        #expect(manifest.bots[1].token.secretValue == "2002:AAHleakCANARYleakCANARYleakCANARY2002")
    }

    @Test func windowsLineEndingsLoadAndATabIsFoundOnItsLine() throws {
        let valid = try write("crlf.yaml", "version: 1\r\nbots:\r\n  - name: support\r\n    token_env: T\r\n    plugin: echo\r\n")
        let tabbed = try write("crlf-tab.yaml", "version: 1\r\nbots:\r\n  - name: support\r\n\ttoken_env: T\r\n")

        #expect(try ManifestFixtures.load(valid, environment: ["T": "1:AAH"]).bots.map(\.name) == ["support"])
        #expect(
            ManifestFixtures.problemLines(tabbed)
                == ["\(tabbed):4:1: manifest: a tab in the indentation; YAML indents with spaces only"]
        )
    }

    @Test func theDefaultLockDirectoryFollowsXDGRuntimeDir() {
        #expect(LockSettings.defaultFileDirectory(environment: ["XDG_RUNTIME_DIR": "/run/user/7"]) == "/run/user/7/bothost")
        #expect(LockSettings.defaultFileDirectory(environment: ["XDG_RUNTIME_DIR": ""]) == "/tmp/bothost-\(getuid())")
        #expect(LockSettings.defaultFileDirectory(environment: [:]) == "/tmp/bothost-\(getuid())")
    }

    /// systemd's `StateDirectory=` with `DynamicUser=yes` hands a symlink into
    /// /var/lib/private; the directory it names is the state directory.
    @Test func theDefaultStateDirectoryFollowsSystemdThenXDG() throws {
        let base = NSTemporaryDirectory() + "bothost-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/private/bothost", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base + "/bothost", withDestinationPath: "private/bothost")
        let real = URL(fileURLWithPath: base + "/private/bothost").resolvingSymlinksInPath().path
        #expect(Manifest.defaultStateDirectory(environment: ["STATE_DIRECTORY": base + "/bothost"]) == real)
        #expect(Manifest.defaultStateDirectory(environment: ["XDG_STATE_HOME": "/var/st", "HOME": "/h"]) == "/var/st/bothost")
        #expect(Manifest.defaultStateDirectory(environment: ["HOME": "/h"]) == "/h/.local/state/bothost")
    }

    @Test func problemsPointAtTheFileAsGivenToParse() {
        let error = #expect(throws: ManifestError.self) {
            try Manifest.parse(
                yaml: "version: 1\nbots: []\n", file: "inline.yaml", baseDirectory: ".", environment: [:], plugins: [])
        }
        #expect(error?.description == "inline.yaml:2:7: bots: the list of bots is empty; declare at least one bot")
    }
}
