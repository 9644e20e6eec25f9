import ChildProcesses
public import Foundation
import Glibc

/// A headless Chromium, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`), for the tests and the benchmark of the admin server's
/// dashboard: load a page, evaluate JavaScript in it, take a screenshot, and collect what
/// the page's console would show as an error.
///
/// The protocol runs on two FIFOs in a scratch directory: Chromium reads commands on its
/// descriptor 3 and writes answers and events on its descriptor 4, each message JSON
/// ended by a NUL. We hold both FIFOs open for reading and writing, so that neither
/// side's open blocks; a Chromium that dies is noticed by the deadline of each call.
/// The process is a ``ChildProcess``: it dies with the test. Every call blocks its thread:
/// run a session with ``session(in:_:)``, which gives it a thread of its own.
public final class HeadlessChromium: @unchecked Sendable {
    /// Debian's `chromium` package (scripts/prepare-machine.sh installs it).
    public static let executable = "/usr/bin/chromium"

    private let process: ChildProcess
    private let commands: Int32
    private let answers: Int32
    private var pending: [UInt8] = []
    private var nextID = 0
    /// The attached page's session, once ``open(_:)`` has attached one.
    private var page: String?
    /// What the page's console showed as errors: `console.error`, uncaught exceptions, and
    /// the browser's own errors (a resource that failed to load).
    public private(set) var consoleErrors: [String] = []

    /// A DevTools call that failed: an error answer, or no answer in time.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `body` with a Chromium of a `width`×`height` window on a thread of its own,
    /// and ends Chromium afterwards, however `body` ends.
    public static func session<T: Sendable>(
        in directory: URL, width: Int = 1400, height: Int = 1000, _ body: @escaping @Sendable (HeadlessChromium) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        let browser = try HeadlessChromium(in: directory, width: width, height: height)
                        defer { browser.close() }
                        return try body(browser)
                    })
            }
            thread.name = "headless chromium"
            thread.start()
        }
    }

    private init(in directory: URL, width: Int, height: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw Failure(description: "\(Self.executable) is missing: install Debian's chromium (scripts/prepare-machine.sh)")
        }
        let input = directory.appendingPathComponent("devtools-commands").path
        let output = directory.appendingPathComponent("devtools-answers").path
        for fifo in [input, output] where mkfifo(fifo, 0o600) != 0 {
            throw Failure(description: "cannot make the FIFO \(fifo): \(String(cString: strerror(errno)))")
        }
        commands = Glibc.open(input, O_RDWR | O_CLOEXEC)
        answers = Glibc.open(output, O_RDWR | O_CLOEXEC)
        let flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--remote-debugging-pipe", "--window-size=\(width),\(height)",
            "--user-data-dir=\(directory.appendingPathComponent("chromium-profile").path)", "about:blank",
        ]
        process = try ChildProcess(
            "/bin/sh", ["-c", #"exec "$0" "$@" 3<"\#(input)" 4>"\#(output)""#, Self.executable] + flags,
            in: directory.path, output: directory.appendingPathComponent("chromium.log").path)
    }

    /// Opens `url` in a new tab, attached with the console, the log and the page watched.
    public func open(_ url: String) throws {
        let target = try call("Target.createTarget", ["url": "about:blank"], onPage: false)
        guard let targetID = target["targetId"] as? String else { throw Failure(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true], onPage: false)
        page = attached["sessionId"] as? String
        for domain in ["Runtime", "Log", "Page"] { _ = try call("\(domain).enable") }
        _ = try call("Page.navigate", ["url": url])
    }

    /// The value of `expression` in the page, as JSON makes it (`returnByValue`).
    public func evaluate(_ expression: String) throws -> Any? {
        let answer = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = answer["exceptionDetails"] { throw Failure(description: "\(expression) threw: \(exception)") }
        return (answer["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression` every 100 ms until it is `true`; whether it was within `timeout`.
    public func waitUntil(_ expression: String, timeout: Duration = .seconds(20)) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try evaluate(expression) as? Bool == true { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// Saves a PNG of the page as the window shows it.
    public func screenshot(to file: URL) throws {
        let answer = try call("Page.captureScreenshot", ["format": "png"])
        guard let base64 = answer["data"] as? String, let png = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot in the answer")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
    }

    private func close() {
        _ = try? call("Browser.close", onPage: false, timeout: .seconds(5))
        process.terminate()
        Glibc.close(commands)
        Glibc.close(answers)
    }

    // MARK: - The protocol

    /// Sends `method` (to the attached page unless `onPage` is false) and returns its result,
    /// noting the events that come meanwhile.
    private func call(
        _ method: String, _ parameters: [String: Any] = [:], onPage: Bool = true, timeout: Duration = .seconds(30)
    ) throws -> [String: Any] {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": parameters]
        if onPage, let page { message["sessionId"] = page }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        guard bytes.withUnsafeBytes({ write(commands, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(description: "\(method): cannot write to Chromium: \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try nextMessage(before: deadline, waitingFor: method)
            guard answer["id"] as? Int == nextID else {
                note(answer)
                continue
            }
            if let error = answer["error"] { throw Failure(description: "\(method): \(error)") }
            return answer["result"] as? [String: Any] ?? [:]
        }
    }

    private func nextMessage(before deadline: ContinuousClock.Instant, waitingFor method: String) throws -> [String: Any] {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let message = Data(pending[..<end])
                pending.removeSubrange(...end)
                if let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any] { return object }
                continue
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, process.isRunning else {
                throw Failure(description: "\(method): no answer from Chromium\(process.isRunning ? " in time" : "; it exited")")
            }
            var ready = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            if count > 0 { pending += chunk[..<count] }
        }
    }

    /// Keeps the events that a console would show as errors.
    private func note(_ event: [String: Any]) {
        let parameters = event["params"] as? [String: Any] ?? [:]
        switch event["method"] as? String {
        case "Runtime.consoleAPICalled" where ["error", "assert"].contains(parameters["type"] as? String):
            let arguments = (parameters["args"] as? [[String: Any]] ?? []).map { "\($0["value"] ?? $0["description"] ?? "")" }
            consoleErrors.append("console.\(parameters["type"] ?? ""): \(arguments.joined(separator: " "))")
        case "Runtime.exceptionThrown":
            let details = parameters["exceptionDetails"] as? [String: Any] ?? [:]
            let exception = (details["exception"] as? [String: Any])?["description"] ?? details["text"] ?? "an exception"
            consoleErrors.append("uncaught: \(exception)")
        case "Log.entryAdded":
            let entry = parameters["entry"] as? [String: Any] ?? [:]
            if entry["level"] as? String == "error" {
                consoleErrors.append("\(entry["source"] ?? "log"): \(entry["text"] ?? "") \(entry["url"] ?? "")")
            }
        default:
            break
        }
    }
}
