import ChildProcesses
import Foundation

/// A real `bothost` process, started from the binary this package built, with its
/// output collected in files. It dies with its test: see `ChildProcess`.
final class BothostProcess: Sendable {
    /// The `bothost` executable next to this test bundle.
    static let executable: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("bothost")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/bothost")
    }()

    private let process: ChildProcess
    private let output: URL
    private let errors: URL

    /// Starts `bothost arguments...` in `directory`, through `launcher` when given (such as
    /// `prlimit --nofile=64:4096`).
    init(_ arguments: [String], in directory: URL, environment: [String: String] = [:], launcher: [String] = []) throws {
        let id = UUID().uuidString
        output = directory.appendingPathComponent("stdout-\(id).txt")
        errors = directory.appendingPathComponent("stderr-\(id).txt")
        let command = launcher + [Self.executable.path] + arguments
        process = try ChildProcess(
            command[0], Array(command.dropFirst()), in: directory.path, environment: environment, output: output.path,
            errors: errors.path)
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        process.signal(signal)
    }

    /// Waits for the exit (at most `timeout`, then SIGKILL) and returns the exit code,
    /// or 128 + signal for a process killed by a signal.
    func exitCode(timeout: Duration = .seconds(60)) async -> Int32 {
        await process.exitCode(timeout: timeout)
    }

    /// Runs `bothost arguments...` to the end: exit code, stdout, stderr.
    static func run(
        _ arguments: [String], in directory: URL, environment: [String: String] = [:]
    ) async throws -> (
        code: Int32, stdout: String, stderr: String
    ) {
        let process = try BothostProcess(arguments, in: directory, environment: environment)
        let code = await process.exitCode()
        return (code, process.stdout, process.stderr)
    }
}

/// A private temporary directory for one test, removed afterwards.
func withScratchDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bothost-process-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}
