import BotAPIEmulator
import Foundation
import TelegramBotAPI

// bothost-bench: BotHost's costs per bot and per update, measured against the in-process
// Bot API emulator with the host running as a separate release-mode process.
//
//   swift build -c release && .build/release/bothost-bench [--idle-seconds 30]
//
// The host binary is the `bothost` next to this executable.

let arguments = CommandLine.arguments
let idleSeconds = arguments.firstIndex(of: "--idle-seconds").flatMap { Int(arguments[$0 + 1]) } ?? 30
let hostBinary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("bothost").path
let workDirectory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bothost-bench-\(getpid())")
try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: workDirectory) }

/// CPU seconds (user + system) a process has used so far.
func cpuSeconds(of pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let afterName = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: afterName)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Resident memory of a process in MiB.
func residentMiB(of pid: Int32) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Double(line.split(separator: " ")[1]) ?? 0) / 1024
}

/// CPU seconds this benchmark process (the emulator) has used.
func ownCPUSeconds() -> Double { cpuSeconds(of: getpid()) }

func tokens(_ count: Int, base: Int) -> [BotToken] {
    (0..<count).map { try! BotToken("\(base + $0):bench-secret-\($0)") }
}

func manifest(_ name: String, emulator: BotAPIEmulator, tokens: [BotToken], onLocked: String = "fail") throws -> String {
    var yaml = """
        version: 1
        api_url: \(emulator.baseURL)
        lock: { dir: \(workDirectory.path)/locks }
        on_locked: \(onLocked)
        bots:

        """
    for (index, token) in tokens.enumerated() {
        yaml += "  - { name: bot\(index), token: \"\(token.secretValue)\", plugin: echo }\n"
    }
    let path = workDirectory.appendingPathComponent(name).path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func startHost(_ manifestPath: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: hostBinary)
    process.arguments = ["run", manifestPath, "--log-level", "warning"]
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    return process
}

@MainActor func waitUntil(timeout: Duration = .seconds(120), _ condition: () -> Bool) async -> Duration {
    let start = ContinuousClock.now
    while !condition() {
        if ContinuousClock.now - start > timeout { fatalError("benchmark step timed out") }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return ContinuousClock.now - start
}

@MainActor func stop(_ host: Process) async -> Duration {
    let start = ContinuousClock.now
    kill(host.processIdentifier, SIGTERM)
    while host.isRunning { try? await Task.sleep(for: .microseconds(200)) }
    return ContinuousClock.now - start
}

func milliseconds(_ duration: Duration) -> String { String(format: "%.1f ms", duration.seconds * 1000) }
extension Duration { var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 } }

var rows: [(String, String)] = []
@MainActor func report(_ name: String, _ value: String) {
    rows.append((name, value))
    print("\(name): \(value)")
}

let emulator = BotAPIEmulator()
try await emulator.start()

// 1. Throughput: 10 bots x 5,000 text updates, echo replies.
do {
    let bots = tokens(10, base: 100_000)
    for token in bots { emulator.addBot(token) }
    let host = try startHost(try manifest("throughput.yaml", emulator: emulator, tokens: bots))
    _ = await waitUntil { bots.allSatisfy { emulator.getUpdatesCalls(of: $0).last?.outcome == .pending } }
    let hostCPU = cpuSeconds(of: host.processIdentifier)
    let emulatorCPU = ownCPUSeconds()
    let start = ContinuousClock.now
    for index in 0..<5000 {
        for token in bots { emulator.sendText("message \(index)", to: token, from: User(id: Int64(index % 50 + 1), firstName: "U")) }
    }
    _ = await waitUntil { bots.allSatisfy { emulator.sentCount(by: $0) == 5000 } }
    let elapsed = ContinuousClock.now - start
    let hostUsed = cpuSeconds(of: host.processIdentifier) - hostCPU
    let emulatorUsed = ownCPUSeconds() - emulatorCPU
    report("throughput (10 bots x 5,000 updates)", String(format: "%.0f updates/s", 50_000 / elapsed.seconds))
    report("host CPU per 1,000 updates", String(format: "%.1f ms", hostUsed * 1000 / 50))
    report("emulator CPU per 1,000 updates", String(format: "%.1f ms", emulatorUsed * 1000 / 50))
    _ = await stop(host)
}

// 2. Latency: update injected -> reply received, at a steady 200 updates/s over 20 bots.
do {
    let bots = tokens(20, base: 200_000)
    for token in bots { emulator.addBot(token) }
    let host = try startHost(try manifest("latency.yaml", emulator: emulator, tokens: bots))
    _ = await waitUntil { bots.allSatisfy { emulator.getUpdatesCalls(of: $0).last?.outcome == .pending } }
    var injected: [String: ContinuousClock.Instant] = [:]
    let total = 2000
    let start = ContinuousClock.now
    for index in 0..<total {
        let due = start + .milliseconds(5 * index)
        try await ContinuousClock().sleep(until: due)
        let text = "latency \(index)"
        injected[text] = .now
        emulator.sendText(text, to: bots[index % bots.count])
    }
    _ = await waitUntil { bots.map { emulator.sentCount(by: $0) }.reduce(0, +) == total }
    let latencies = bots.flatMap { emulator.sentMessages(by: $0) }.compactMap { message in
        injected[message.text].map { message.receivedAt - $0 }
    }.sorted()
    report("latency p50 at 200 updates/s (20 bots)", milliseconds(latencies[latencies.count / 2]))
    report("latency p99 at 200 updates/s (20 bots)", milliseconds(latencies[latencies.count * 99 / 100]))
    _ = await stop(host)
}

// 3 and 4. Scale: 1,000 bots long-polling idle; then SIGTERM.
do {
    let bots = tokens(1000, base: 300_000)
    for token in bots { emulator.addBot(token) }
    let launched = ContinuousClock.now
    let host = try startHost(try manifest("scale.yaml", emulator: emulator, tokens: bots))
    _ = await waitUntil { bots.allSatisfy { emulator.getUpdatesCalls(of: $0).last?.outcome == .pending } }
    report("1,000 bots: time until all poll", milliseconds(ContinuousClock.now - launched))
    let idleCPU = cpuSeconds(of: host.processIdentifier)
    try await Task.sleep(for: .seconds(idleSeconds))
    let perSecond = (cpuSeconds(of: host.processIdentifier) - idleCPU) / Double(idleSeconds)
    report("1,000 idle bots: host RSS", String(format: "%.0f MiB", residentMiB(of: host.processIdentifier)))
    report("1,000 idle bots: host CPU", String(format: "%.2f%% of one core (over %d s)", perSecond * 100, idleSeconds))
    report("stop: SIGTERM -> exit, 1,000 bots", milliseconds(await stop(host)))
}

// 5. Failover: SIGKILL the holder -> a `wait` standby polls.
do {
    let bots = tokens(1, base: 400_000)
    for token in bots { emulator.addBot(token) }
    let path = try manifest("failover.yaml", emulator: emulator, tokens: bots, onLocked: "wait")
    let holder = try startHost(path)
    _ = await waitUntil { emulator.getUpdatesCalls(of: bots[0]).last?.outcome == .pending }
    let standby = try startHost(path)
    try await Task.sleep(for: .seconds(1))
    let before = emulator.getUpdatesCalls(of: bots[0]).count
    kill(holder.processIdentifier, SIGKILL)
    let takeover = await waitUntil { emulator.getUpdatesCalls(of: bots[0]).count > before }
    report("failover: SIGKILL holder -> standby polls", milliseconds(takeover))
    _ = await stop(standby)
}

await emulator.stop()
print("\n| measure | BotHost |\n| --- | --- |")
for (name, value) in rows { print("| \(name) | \(value) |") }
