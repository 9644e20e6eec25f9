import Foundation
import Synchronization

/// A real `bothost` process, started from the binary this package built, with its
/// output collected in files.
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

    private let process: Process
    private let output: URL
    private let errors: URL

    /// Starts `bothost arguments...` in `directory`.
    init(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws {
        let id = UUID().uuidString
        output = directory.appendingPathComponent("stdout-\(id).txt")
        errors = directory.appendingPathComponent("stderr-\(id).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the exit (at most `timeout`, then SIGKILL) and returns the exit code,
    /// or 128 + signal for a process killed by a signal.
    func exitCode(timeout: Duration = .seconds(60)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { kill(process.processIdentifier, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Runs `bothost arguments...` to the end: exit code, stdout, stderr.
    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> (
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
