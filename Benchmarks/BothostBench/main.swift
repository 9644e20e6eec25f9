import BotAPIEmulator
import BotHostCore
import ChildProcesses
import Foundation
import HeadlessBrowser
import TelegramBotAPI

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// bothost-bench: the costs of hosting many bots, per bot and per update, measured against
// the in-process Bot API emulator, with each host running as a separate process: BotHost
// (release build, echo plugin), and, unless --only-bothost, aiogram 3 and
// python-telegram-bot 22 echo bots (Benchmarks/peers/*.py) run by --python.
//
//   Benchmarks/run.sh [--only-bothost] [--idle-seconds 30]
//
// A host's CPU and memory are those of its whole process tree: BotHost's supervisor and
// worker processes (`isolation: process`, the default) are summed.
//
// `--workload throughput|trickle|latency|scale|failover|crash|limits|journal|upload|control|webhook` runs one workload alone,
// `--settle-seconds N` is how long the webhook workload lets the host settle after its start (65 s),
// `--isolation none` runs BotHost in one process instead of a supervisor and workers, and
// `--limits '{ per_bot: 1000000/s, per_chat: 1000000/s }'` gives the echo bots limits that never bind;
// `--updates-per-bot N` resizes the throughput workload, for profiling a host (attach
// `perf record -g -p PID` to the `bothost` child; valgrind 3.19 cannot read the DWARF 5
// of Swift 6.3 binaries). The host binary is the `bothost` next to this executable.

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).map { arguments[$0 + 1] } }
let idleSeconds = option("--idle-seconds").flatMap { Int($0) } ?? 30
/// How long the webhook workload waits after the last webhook is set before its idle
/// window begins.
let webhookSettleSeconds = option("--settle-seconds").flatMap { Int($0) } ?? 65
let onlyBotHost = arguments.contains("--only-bothost")
let python = option("--python") ?? ".build/peers-venv/bin/python"
let onlyWorkload = option("--workload")
let updatesPerBot = option("--updates-per-bot").flatMap { Int($0) } ?? 5000
/// BotHost's `isolation.mode`: `process` (the default) or `none`.
let isolation = option("--isolation") ?? "process"
/// The echo workloads' `limits:`: `off` (the default), or limits to measure what the
/// limiter itself costs, such as `"{ per_bot: 1000000/s, per_chat: 1000000/s }"`.
let echoLimits = option("--limits") ?? "off"
/// Whether `workload` is to run: every workload runs unless `--workload` names one.
func runs(_ workload: String) -> Bool { onlyWorkload == nil || onlyWorkload == workload }
let peersDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("peers").path
let hostBinary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("bothost").path
/// Stops with one line, not a trap's backtrace, when an executable the run needs is missing.
func requireExecutable(_ path: String, _ hint: String) {
    guard !FileManager.default.isExecutableFile(atPath: path) else { return }
    FileHandle.standardError.write(Data("bothost-bench: no executable at \(path): \(hint)\n".utf8))
    exit(2)
}
requireExecutable(hostBinary, "build it with `swift build -c release --product bothost`")
if !onlyBotHost, ["throughput", "trickle", "latency", "scale"].contains(where: runs) {
    requireExecutable(python, "Benchmarks/run.sh makes it, or pass --python PATH or --only-bothost")
}
let workDirectory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bothost-bench-\(getpid())")
try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: workDirectory) }

/// The fields of `/proc/PID/stat` after the command name: state is `[0]`, ppid `[1]`.
func statFields(of pid: Int32) -> [Substring] {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let afterName = stat.lastIndex(of: ")")
    else { return [] }
    return stat[stat.index(after: afterName)...].split(separator: " ")
}

/// `pid` and its descendants: a supervisor and its workers.
func processTree(of pid: Int32) -> [Int32] {
    let all = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    var children: [Int32: [Int32]] = [:]
    for process in all {
        if let parent = statFields(of: process).dropFirst().first.flatMap({ Int32($0) }) {
            children[parent, default: []].append(process)
        }
    }
    var tree = [pid]
    var index = 0
    while index < tree.count {
        tree += children[tree[index]] ?? []
        index += 1
    }
    return tree
}

/// CPU seconds (user + system) a process and its descendants have used so far; a
/// descendant that exited in between is not counted.
func cpuSeconds(of pid: Int32) -> Double {
    processTree(of: pid).map { process in
        let fields = statFields(of: process)
        guard fields.count > 12 else { return 0 }
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }.reduce(0, +)
}

/// Resident memory of a process and its descendants in MiB.
func residentMiB(of pid: Int32) -> Double {
    processTree(of: pid).map { process in
        guard let status = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) / 1024
    }.reduce(0, +)
}

/// CPU seconds this benchmark process (the emulator) has used, without its hosts.
func ownCPUSeconds() -> Double {
    let fields = statFields(of: getpid())
    return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func tokens(_ count: Int, base: Int) -> [BotToken] {
    (0..<count).map { try! BotToken("\(base + $0):bench-secret-\($0)") }
}

/// A manifest for `tokens`. `limits` is the bots' `limits:`: `--limits`, off by default,
/// since the echo workloads answer one chat far faster than Telegram allows; `extra` is
/// more host keys (one line).
func manifest(
    _ name: String, emulator: BotAPIEmulator, tokens: [BotToken], onLocked: String = "fail", limits: String = echoLimits,
    extra: String = "",
    plugin: (Int) -> String = { _ in "echo" }
) throws -> String {
    var yaml = """
        version: 1
        api_url: \(emulator.baseURL)
        lock: { dir: \(workDirectory.path)/locks }
        state_dir: \(workDirectory.path)/state
        on_locked: \(onLocked)
        isolation: { mode: \(isolation)\(isolation == "none" ? "" : ", workers: \(option("--workers") ?? "2")") }
        \(extra)
        defaults: { limits: \(limits) }
        bots:

        """
    for (index, token) in tokens.enumerated() {
        yaml += "  - { name: bot\(index), token: \"\(token.secretValue)\", plugin: \(plugin(index)) }\n"
    }
    let path = workDirectory.appendingPathComponent(name).path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A way to host echo bots: BotHost or one of the Python frameworks people use today.
struct Contender {
    let name: String
    /// Starts a host process polling `emulator` for `tokens`, its output discarded; it
    /// dies with the benchmark, even a crashed one.
    let start: @MainActor (_ emulator: BotAPIEmulator, _ tokens: [BotToken], _ label: String) throws -> ChildProcess
}

let botHost = Contender(name: "BotHost") { emulator, tokens, label in
    try ChildProcess(
        hostBinary, ["run", try manifest("\(label).yaml", emulator: emulator, tokens: tokens), "--log-level", "warning"])
}

func pythonContender(_ name: String, script: String) -> Contender {
    Contender(name: name) { emulator, tokens, label in
        let tokensFile = workDirectory.appendingPathComponent("\(label)-tokens.txt").path
        try tokens.map(\.secretValue).joined(separator: "\n").write(toFile: tokensFile, atomically: true, encoding: .utf8)
        return try ChildProcess(python, ["\(peersDirectory)/\(script)", emulator.baseURL, tokensFile])
    }
}

let contenders =
    [botHost]
    + (onlyBotHost
        ? []
        : [
            pythonContender("aiogram 3", script: "aiogram_echo.py"),
            pythonContender("python-telegram-bot 22", script: "ptb_echo.py"),
        ])

/// The time until `condition` held, or `nil` if it did not within `timeout`.
/// Asks `condition` every `interval` until it holds; the time that took, or `nil` after
/// `timeout`. A condition that reads thousands of bots from the emulator takes a longer
/// interval, or the asking itself takes the emulator's CPU.
@MainActor func waitUntil(
    timeout: Duration = .seconds(120), every interval: Duration = .milliseconds(1), _ condition: () -> Bool
) async -> Duration? {
    let start = ContinuousClock.now
    while !condition() {
        if ContinuousClock.now - start > timeout { return nil }
        try? await Task.sleep(for: interval)
    }
    return ContinuousClock.now - start
}

/// SIGTERM, then the time until the process exited, or `nil` if it had not after 30 s
/// (it is SIGKILLed then).
@MainActor func stop(_ host: ChildProcess) async -> Duration? {
    let start = ContinuousClock.now
    kill(host.pid, SIGTERM)
    while host.isRunning {
        if ContinuousClock.now - start > .seconds(30) {
            kill(host.pid, SIGKILL)
            while host.isRunning { try? await Task.sleep(for: .milliseconds(1)) }
            return nil
        }
        try? await Task.sleep(for: .microseconds(200))
    }
    return ContinuousClock.now - start
}

func milliseconds(_ duration: Duration) -> String { String(format: "%.1f ms", duration.seconds * 1000) }
extension Duration { var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 } }

var measures: [String] = []
var results: [String: [String: String]] = [:]
@MainActor func report(_ contender: Contender, _ measure: String, _ value: String) {
    if !measures.contains(measure) { measures.append(measure) }
    results[measure, default: [:]][contender.name] = value
    FileHandle.standardOutput.write(Data("\(contender.name): \(measure): \(value)\n".utf8))
}

/// The polls of `token` that brought updates: neither the one still waiting at the end nor
/// the empty answers of a poll that timed out.
@MainActor func answeredPolls(_ emulator: BotAPIEmulator, _ token: BotToken) -> Int {
    emulator.getUpdatesCalls(of: token).count { call in
        if case .updates(let ids) = call.outcome { !ids.isEmpty } else { false }
    }
}

@MainActor func allPolling(_ emulator: BotAPIEmulator, _ tokens: [BotToken]) -> Bool {
    tokens.allSatisfy { emulator.getUpdatesCalls(of: $0).last?.outcome == .pending }
}

let emulator = BotAPIEmulator()
try await emulator.start()

for (index, contender) in contenders.enumerated() {
    let base = 1_000_000 * (index + 1)

    // 1. Throughput: 10 bots x 5,000 text updates, echo replies.
    if runs("throughput") {
        let bots = tokens(10, base: base + 100_000)
        for token in bots { emulator.addBot(token) }
        let host = try contender.start(emulator, bots, "throughput")
        _ = await waitUntil { allPolling(emulator, bots) }
        let hostCPU = cpuSeconds(of: host.pid)
        let emulatorCPU = ownCPUSeconds()
        let start = ContinuousClock.now
        for index in 0..<updatesPerBot {
            for token in bots {
                emulator.sendText("message \(index)", to: token, from: User(id: Int64(index % 50 + 1), firstName: "U"))
            }
        }
        _ = await waitUntil(timeout: .seconds(600)) { bots.allSatisfy { emulator.sentCount(by: $0) == updatesPerBot } }
        let elapsed = ContinuousClock.now - start
        let hostUsed = cpuSeconds(of: host.pid) - hostCPU
        let emulatorUsed = ownCPUSeconds() - emulatorCPU
        let thousands = Double(bots.count * updatesPerBot) / 1000
        report(
            contender, "throughput (10 bots x \(updatesPerBot.formatted()) updates)",
            String(format: "%.0f updates/s", thousands * 1000 / elapsed.seconds))
        let polls = bots.map { answeredPolls(emulator, $0) }.reduce(0, +)
        report(
            contender, "host CPU per 1,000 updates",
            String(format: "%.1f ms (%.1f updates per poll)", hostUsed * 1000 / thousands, thousands * 1000 / Double(polls)))
        report(contender, "emulator CPU per 1,000 updates", String(format: "%.1f ms", emulatorUsed * 1000 / thousands))
        _ = await stop(host)
    }

    // 2. Light traffic, the common case in production: messages trickle in from many
    // chats, so each getUpdates returns 1 to 3 updates. 20 bots; each round gives every
    // bot 1, 2 or 3 messages and waits for the replies.
    if runs("trickle") {
        let bots = tokens(20, base: base + 500_000)
        for token in bots { emulator.addBot(token) }
        let host = try contender.start(emulator, bots, "trickle")
        _ = await waitUntil { allPolling(emulator, bots) }
        let hostCPU = cpuSeconds(of: host.pid)
        var sent = 0
        for round in 0..<300 {
            let perBot = 1 + round % 3
            for token in bots {
                for index in 0..<perBot {
                    emulator.sendText(
                        "trickle \(round) \(index)", to: token, from: User(id: Int64(round % 40 + 1), firstName: "U"))
                }
            }
            sent += perBot
            _ = await waitUntil(timeout: .seconds(30)) { bots.allSatisfy { emulator.sentCount(by: $0) == sent } }
        }
        let polls = bots.map { answeredPolls(emulator, $0) }.reduce(0, +)
        let thousands = Double(bots.count * sent) / 1000
        report(
            contender, "light traffic (20 bots, 1-3 updates per poll): host CPU per 1,000 updates",
            String(
                format: "%.1f ms (%.1f updates per poll)", (cpuSeconds(of: host.pid) - hostCPU) * 1000 / thousands,
                Double(bots.count * sent) / Double(polls)))
        _ = await stop(host)
    }

    // 3. Latency: update injected -> reply received, at a steady 200 updates/s over 20 bots.
    if runs("latency") {
        let bots = tokens(20, base: base + 200_000)
        for token in bots { emulator.addBot(token) }
        let host = try contender.start(emulator, bots, "latency")
        _ = await waitUntil { allPolling(emulator, bots) }
        var injected: [String: ContinuousClock.Instant] = [:]
        let total = 2000
        let start = ContinuousClock.now
        for index in 0..<total {
            try await ContinuousClock().sleep(until: start + .milliseconds(5 * index))
            let text = "latency \(index)"
            injected[text] = .now
            emulator.sendText(text, to: bots[index % bots.count])
        }
        _ = await waitUntil { bots.map { emulator.sentCount(by: $0) }.reduce(0, +) == total }
        let latencies = bots.flatMap { emulator.sentMessages(by: $0) }.compactMap { message in
            injected[message.text].map { message.receivedAt - $0 }
        }.sorted()
        report(contender, "latency p50 at 200 updates/s (20 bots)", milliseconds(latencies[latencies.count / 2]))
        report(contender, "latency p99 at 200 updates/s (20 bots)", milliseconds(latencies[latencies.count * 99 / 100]))
        _ = await stop(host)
    }

    // 4 and 5. Scale: 1,000 bots long-polling idle; then SIGTERM.
    if runs("scale") {
        let bots = tokens(1000, base: base + 300_000)
        for token in bots { emulator.addBot(token) }
        let launched = ContinuousClock.now
        let host = try contender.start(emulator, bots, "scale")
        guard await waitUntil(timeout: .seconds(300), { allPolling(emulator, bots) }) != nil else {
            report(contender, "1,000 bots: time until all poll", "not all polling after 300 s")
            _ = await stop(host)
            continue
        }
        report(contender, "1,000 bots: time until all poll", milliseconds(ContinuousClock.now - launched))
        let idleCPU = cpuSeconds(of: host.pid)
        try await Task.sleep(for: .seconds(idleSeconds))
        let perSecond = (cpuSeconds(of: host.pid) - idleCPU) / Double(idleSeconds)
        report(contender, "1,000 idle bots: host RSS", String(format: "%.0f MiB", residentMiB(of: host.pid)))
        report(contender, "1,000 idle bots: host CPU", String(format: "%.2f%% of one core", perSecond * 100))
        report(contender, "stop: SIGTERM -> exit, 1,000 bots", (await stop(host)).map(milliseconds) ?? "no exit within 30 s")
    }
}

// 6. Failover (BotHost only: the others have no lock to take over): SIGKILL the holder -> a `wait` standby polls.
if runs("failover") {
    let bots = tokens(1, base: 400_000)
    for token in bots { emulator.addBot(token) }
    let path = try manifest("failover.yaml", emulator: emulator, tokens: bots, onLocked: "wait")
    let holder = try ChildProcess(hostBinary, ["run", path, "--log-level", "warning"])
    _ = await waitUntil { emulator.getUpdatesCalls(of: bots[0]).last?.outcome == .pending }
    let standby = try ChildProcess(hostBinary, ["run", path, "--log-level", "warning"])
    try await Task.sleep(for: .seconds(1))
    let before = emulator.getUpdatesCalls(of: bots[0]).count
    kill(holder.pid, SIGKILL)
    let takeover = await waitUntil { emulator.getUpdatesCalls(of: bots[0]).count > before }
    report(botHost, "failover: SIGKILL holder -> standby polls", takeover.map(milliseconds) ?? "no takeover within 120 s")
    _ = await stop(standby)
}

// 7. Crash drill (BotHost only): a plugin traps in one of 5 bots on 2 worker processes ->
// the time from the worker's death until its bots poll again.
if runs("crash") {
    let bots = tokens(5, base: 450_000)
    for token in bots { emulator.addBot(token) }
    let path = try manifest("crash.yaml", emulator: emulator, tokens: bots) { $0 == 0 ? "chaos" : "echo" }
    let host = try ChildProcess(
        hostBinary, ["run", path, "--log-level", "warning"], environment: ["SWIFT_BACKTRACE": "enable=no"])
    _ = await waitUntil { allPolling(emulator, bots) }
    let workers = Set(processTree(of: host.pid).dropFirst())
    let before = emulator.getUpdatesCalls(of: bots[0]).count
    emulator.sendText("/crash", to: bots[0])
    _ = await waitUntil { !workers.isSubset(of: Set(processTree(of: host.pid))) }
    let restarted = await waitUntil {
        emulator.getUpdatesCalls(of: bots[0]).count > before + 1
            && emulator.getUpdatesCalls(of: bots[0]).last?.outcome == .pending
    }
    report(botHost, "crash drill: worker dies -> its bots poll again", restarted.map(milliseconds) ?? "no poll within 120 s")
    _ = await stop(host)
}

// 8. Rate limits (BotHost only): the emulator answers 429 past Telegram's limits, and a
// chaos bot keeps its default `limits:`. `/broadcast 1000` (a scheduled job, one message
// to each of 1,000 chats) while a user writes from a new chat every 250 ms; then
// `/flood 40` in one chat while 30 other chats write once each.
if runs("limits") {
    let bot = tokens(1, base: 470_000)[0]
    emulator.addBot(bot)
    emulator.enforce(.telegram)
    let path = try manifest("limits.yaml", emulator: emulator, tokens: [bot], limits: "{}") { _ in "chaos" }
    let host = try ChildProcess(hostBinary, ["run", path, "--log-level", "warning"])
    _ = await waitUntil { allPolling(emulator, [bot]) }
    func sent(_ prefix: String) -> [SentMessage] { emulator.sentMessages(by: bot).filter { $0.text.hasPrefix(prefix) } }
    /// Each reply's time from its message to its answer.
    func latencies(_ injected: [String: ContinuousClock.Instant]) -> [Duration] {
        sent("reply ").compactMap { message in injected[message.text].map { message.receivedAt - $0 } }.sorted()
    }

    let started = ContinuousClock.now
    emulator.sendText("/broadcast 1000", to: bot, from: User(id: 7001, firstName: "Admin"))
    var injected: [String: ContinuousClock.Instant] = [:]
    var chat: Int64 = 9001
    while sent("broadcast ").count < 1000, ContinuousClock.now - started < .seconds(120) {
        let text = "reply \(chat)"
        injected[text] = .now
        emulator.sendText(text, to: bot, from: User(id: chat, firstName: "U"))
        chat += 1
        try await Task.sleep(for: .milliseconds(250))
    }
    let broadcast = sent("broadcast ")
    _ = await waitUntil(timeout: .seconds(10)) { sent("reply ").count == injected.count }
    let replies = latencies(injected)
    report(
        botHost, "limits: broadcast to 1,000 chats (1,000/30 s = 33.3 s)",
        broadcast.count == 1000
            ? String(format: "%.1f s", (broadcast.last!.receivedAt - started).seconds) : "\(broadcast.count) sent in 120 s")
    report(
        botHost, "limits: \(replies.count) replies during the broadcast: p50 / max",
        "\(milliseconds(replies[replies.count / 2])) / \(milliseconds(replies.last!))")

    // A rested bot: the broadcast left its own budget (30 a second) spent.
    try await Task.sleep(for: .seconds(2))
    emulator.sendText("/flood 40", to: bot, from: User(id: 7002, firstName: "Flood"))
    _ = await waitUntil { sent("flood ").count >= 3 }
    injected = [:]
    for chat in Int64(8001)...8030 {
        let text = "reply \(chat)"
        injected[text] = .now
        emulator.sendText(text, to: bot, from: User(id: chat, firstName: "U"))
    }
    _ = await waitUntil(timeout: .seconds(10)) { injected.keys.allSatisfy { text in sent(text).count == 1 } }
    let floodReplies = latencies(injected)
    _ = await waitUntil(timeout: .seconds(60)) { sent("flood ").count == 40 }
    let flood = sent("flood ").map(\.receivedAt)
    report(
        botHost, "limits: /flood 40 in one chat, after its burst of 3",
        String(format: "%.2f messages/s", Double(flood.count - 3) / (flood.last! - flood[2]).seconds))
    report(
        botHost, "limits: 30 other chats' replies during the flood: p50 / max",
        "\(milliseconds(floodReplies[floodReplies.count / 2])) / \(milliseconds(floodReplies.last!))")
    report(botHost, "limits: 429s answered by the emulator", "\(emulator.rateLimitedCount(of: bot))")
    _ = await stop(host)
    emulator.enforce(.off)
}

// 9. The update journal's own cost (BotHost only), in this process: batches of 100
// appended, then each update's try recorded and its finish marked by 64 concurrent workers,
// as the dispatcher does.
if runs("journal") {
    let journal = try SQLiteJournal(path: workDirectory.appendingPathComponent("bench.journal").path)
    _ = try await journal.open()
    let updates = try (0..<100).map { index in
        try Update(
            jsonText: Data(
                #"{"update_id":\#(index),"message":{"message_id":\#(index),"from":{"id":7,"is_bot":false,"first_name":"U"},"chat":{"id":\#(index % 50),"type":"private"},"date":1700000000,"text":"message \#(index)"}}"#
                    .utf8))
    }
    let batches = 200
    let cpu = ownCPUSeconds()
    let start = ContinuousClock.now
    for batch in 0..<batches {
        let entries = try await journal.append(updates, nextOffset: Int64(batch * 100 + 100))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    for index in stride(from: worker, to: entries.count, by: 64) {
                        let entry = entries[index]
                        try? await journal.beginAttempt(entry.sequence)
                        journal.finish(entry.sequence)
                    }
                }
            }
        }
    }
    try await journal.flush()
    let count = Double(batches * updates.count)
    report(
        botHost, "journal alone: CPU per 1,000 updates (append, try, finish)",
        String(
            format: "%.1f ms (%.0f updates/s)", (ownCPUSeconds() - cpu) * 1000 / (count / 1000),
            count / (ContinuousClock.now - start).seconds))
    await journal.close()
}

// 10. A 20 MiB upload (`sendDocument` with a file on disk) through the client and the
// emulator, both in this process: the file goes as multipart/form-data, streamed on both
// sides, so resident memory should grow by far less than the file.
if runs("upload") {
    let token = tokens(1, base: 9_000_000)[0]
    emulator.addBot(token)
    let path = workDirectory.appendingPathComponent("upload-20mib.bin")
    _ = FileManager.default.createFile(atPath: path.path, contents: nil)
    let writer = try FileHandle(forWritingTo: path)
    let piece = Data(repeating: 0x5A, count: 1 << 20)
    for _ in 0..<20 { writer.write(piece) }
    try writer.close()
    let client = BotAPIClient(token: token, configuration: .init(baseURL: emulator.baseURL))
    _ = try await client.getMe()
    let before = residentMiB(of: getpid())
    let sampler = Task.detached {
        var peak = residentMiB(of: getpid())
        while !Task.isCancelled {
            peak = max(peak, residentMiB(of: getpid()))
            try? await Task.sleep(for: .milliseconds(2))
        }
        return peak
    }
    let start = ContinuousClock.now
    let sent = try await client.sendDocument(chatID: 1, document: .path(path.path, fileName: "upload.bin"))
    let elapsed = ContinuousClock.now - start
    sampler.cancel()
    let peak = max(await sampler.value, residentMiB(of: getpid()))
    report(
        botHost, "upload of 20 MiB (streamed multipart): peak RSS growth, client and emulator",
        String(
            format: "%.1f MiB in %.2f s (%d bytes arrived)", peak - before, elapsed.seconds,
            sent.document?.fileSize ?? 0))
    try await client.shutdown()
}

// 9. The control API and the dashboard with 1,000 bots (BotHost only): `GET /bots` answered
// (50 requests, one after another), and the page in a headless Chromium: the first full
// table after navigation, then one refresh (`/bots` and `/rates` fetched, 1,000 rows
// updated) and one filter keystroke, timed in the page.
if runs("control") {
    let bots = tokens(1000, base: 9_500_000)
    for token in bots { emulator.addBot(token) }
    let path = try manifest("control.yaml", emulator: emulator, tokens: bots, extra: #"admin: { listen: "127.0.0.1:0" }"#)
    let log = workDirectory.appendingPathComponent("control.log")
    let host = try ChildProcess(hostBinary, ["run", path], output: log.path)
    _ = await waitUntil(timeout: .seconds(300)) { allPolling(emulator, bots) }
    let line = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").first {
        $0.contains("admin listening on ")
    }
    let base = line.flatMap { $0.firstMatch(of: #/http://[0-9.]+:[0-9]+/#).map { String($0.output) } } ?? ""
    var latencies: [Duration] = []
    var bytes = 0
    for _ in 0..<50 {
        let start = ContinuousClock.now
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(base)/bots")!)
        latencies.append(ContinuousClock.now - start)
        bytes = data.count
    }
    latencies.sort()
    report(
        botHost, "control API, 1,000 bots: GET /bots",
        "p50 \(milliseconds(latencies[25])), p99 \(milliseconds(latencies[49])) (\(bytes / 1024) KiB)")
    let page = try await HeadlessChromium.session(in: workDirectory) { browser in
        let start = ContinuousClock.now
        try browser.open("\(base)/")
        _ = try browser.waitUntil(#"document.querySelectorAll("tr[data-bot]").length === 1000"#, timeout: .seconds(60))
        let firstTable = ContinuousClock.now - start
        let refresh = try browser.evaluate(
            "(async () => { const t = performance.now(); await refresh(); return performance.now() - t; })()")
        let keystroke = try browser.evaluate(
            #"(() => { const t = performance.now(); const f = document.getElementById("filter"); f.value = "bot99"; render(); f.value = ""; render(); return (performance.now() - t) / 2; })()"#
        )
        return (firstTable, refresh as? Double ?? -1, keystroke as? Double ?? -1, browser.consoleErrors.count)
    }
    report(
        botHost, "dashboard, 1,000 bots (headless Chromium)",
        "first table \(milliseconds(page.0)) after navigation; "
            + String(format: "a refresh %.0f ms; a filter keystroke %.0f ms; %d console errors", page.1, page.2, page.3))
    _ = await stop(host)
}

// 10. Webhooks at scale (BotHost only): `--webhook-bots N` bots (10,000 by default; each
// holds a lock file and a journal, about 6 open files, so the hard limit of open files
// must allow it) in webhook mode on one listener, the emulator posting to it. Idle: RSS
// and CPU; then a burst of 10 updates per bot: updates/s and host CPU per 1,000 updates.
if runs("webhook") {
    let count = option("--webhook-bots").flatMap { Int($0) } ?? 10_000
    let bots = tokens(count, base: 10_000_000)
    for token in bots { emulator.addBot(token) }
    let port = freeLocalPort()
    let path = try manifest(
        "webhook.yaml", emulator: emulator, tokens: bots,
        extra:
            "ingress: { mode: webhook, listen: 127.0.0.1:\(port), public_url: http://127.0.0.1:\(port)/tg, max_connections: 4 }")
    let launched = ContinuousClock.now
    // Kept after the run (the work directory is not), for a burst that left updates unanswered.
    let hostLog = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
        "bothost-bench-\(getpid())-webhook-host.log"
    ).path
    let host = try ChildProcess(hostBinary, ["run", path, "--log-level", "warning"], output: hostLog)
    let label = "\(count.formatted()) webhook bots"
    let ready = await waitUntil(timeout: .seconds(900), every: .milliseconds(100)) {
        !host.isRunning || bots.allSatisfy { !emulator.webhookInfo(for: $0).url.isEmpty }
    }
    if !host.isRunning {
        report(botHost, "\(label): time until every webhook is set", "the host exited (its log: \(hostLog))")
    } else if ready == nil {
        report(botHost, "\(label): time until every webhook is set", "not all set after 900 s")
    } else {
        report(botHost, "\(label): time until every webhook is set", milliseconds(ContinuousClock.now - launched))
        // Idle is the host's steady state: the start is over once every bot's journal,
        // opened for the start, has closed (the bot's turn in the housekeeping round after
        // the pass that follows its registration: about 31 s after it, later when passes or
        // closes queue) and the trim after the closes (5 s) has run; 65 s leaves room.
        try await Task.sleep(for: .seconds(webhookSettleSeconds))
        let idleCPU = cpuSeconds(of: host.pid)
        try await Task.sleep(for: .seconds(idleSeconds))
        let perSecond = (cpuSeconds(of: host.pid) - idleCPU) / Double(idleSeconds)
        report(botHost, "\(label), idle: host RSS", String(format: "%.0f MiB", residentMiB(of: host.pid)))
        report(botHost, "\(label), idle: host CPU", String(format: "%.2f%% of one core", perSecond * 100))
        let perBot = 10
        let total = count * perBot
        let cpuBefore = cpuSeconds(of: host.pid)
        let start = ContinuousClock.now
        for index in 0..<perBot {
            for token in bots { emulator.sendText("w\(index)", to: token) }
        }
        // Until every update is answered, or the emulator has delivered everything and no
        // answer came for 30 s: then the updates left unanswered are counted, not waited for.
        var answered = 0
        var lastAnswer = ContinuousClock.now
        _ = await waitUntil(timeout: .seconds(900), every: .milliseconds(100)) {
            let now = bots.reduce(0) { $0 + min(emulator.sentCount(by: $1), perBot) }
            if now != answered { (answered, lastAnswer) = (now, .now) }
            return answered == total
                || (ContinuousClock.now - lastAnswer > .seconds(30)
                    && bots.allSatisfy { emulator.webhookInfo(for: $0).pendingUpdateCount == 0 })
        }
        let elapsed = (answered == total ? ContinuousClock.now : lastAnswer) - start
        let cpu = cpuSeconds(of: host.pid) - cpuBefore
        let short = bots.filter { emulator.sentCount(by: $0) < perBot }.count
        let missing =
            answered == total
            ? "" : "; \((total - answered).formatted()) never answered, by \(short.formatted()) bots (host log: \(hostLog))"
        report(
            botHost, "\(label): burst of \(total.formatted()) updates",
            String(
                format: "%.0f updates/s; host CPU %.1f ms per 1,000 updates", Double(answered) / elapsed.seconds,
                cpu * 1000 / Double(max(answered, 1)) * 1000) + missing)
    }
    _ = await stop(host)
}

await emulator.stop()
print("\n| measure (idle over \(idleSeconds) s) | " + contenders.map(\.name).joined(separator: " | ") + " |")
print("| --- |" + String(repeating: " --- |", count: contenders.count))
for measure in measures {
    print("| \(measure) | " + contenders.map { results[measure]?[$0.name] ?? "n/a" }.joined(separator: " | ") + " |")
}
