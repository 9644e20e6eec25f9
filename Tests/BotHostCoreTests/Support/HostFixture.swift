import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import Logging
import Synchronization

@testable import BotHostCore

/// Runs `body` with a `Host` running in this process against an emulator that knows
/// `tokens` (`prepare` sets the emulator up before the host starts), from a manifest
/// written in the test; stops both afterwards, also when `body` throws.
///
/// `bots` is the YAML of the `bots:` list, indented by two spaces; `extra` adds top-level
/// keys. The manifest's `api_url` and lock directory are filled in. `limits` is the bots'
/// default `limits:`; off, since tests send far faster to one chat than Telegram would take.
func withHost<T>(
    bots: String, extra: String = "", limits: String = "off", plugins: [any BotPlugin.Type] = [RecordingPlugin.self],
    clock: any Clock<Duration> = ManualClock(advancesOnSleep: true), tokens: [BotToken], variables: [String: String] = [:],
    startsAtOnce: Int = 64, prepare: (BotAPIEmulator) -> Void = { _ in }, _ body: (HostFixture) async throws -> T
) async throws -> T {
    try await withEmulator(knowing: tokens) { emulator in
        prepare(emulator)
        let fixture = try HostFixture(
            bots: bots, extra: extra, limits: limits, plugins: plugins, clock: clock, emulator: emulator,
            variables: variables, startsAtOnce: startsAtOnce)
        do {
            let result = try await body(fixture)
            _ = await fixture.stop()
            return result
        } catch {
            _ = await fixture.stop()
            throw error
        }
    }
}

/// A `Host` running in this process against an emulator; see ``withHost(bots:extra:limits:plugins:clock:tokens:variables:startsAtOnce:prepare:_:)``.
final class HostFixture: Sendable {
    let emulator: BotAPIEmulator
    let host: BotHostCore.Host
    let logs: LogCapture
    let lockDirectory: String
    private let running: Task<ExitStatus, Never>

    fileprivate init(
        bots: String, extra: String, limits: String, plugins: [any BotPlugin.Type], clock: any Clock<Duration>,
        emulator: BotAPIEmulator, variables: [String: String], startsAtOnce: Int
    ) throws {
        self.emulator = emulator
        lockDirectory = NSTemporaryDirectory() + "bothost-test-\(UUID().uuidString)"
        let manifest = try Self.manifest(
            bots: bots, extra: extra, limits: limits, emulator: emulator, lockDirectory: lockDirectory, plugins: plugins)
        logs = LogCapture()
        var environment = HostEnvironment(
            clock: clock, random: { 0.5 }, logger: logs.logger(label: "bothost"),
            journalHousekeepingInterval: .milliseconds(500), variables: variables)
        environment.starts = ConcurrentCallLimit(startsAtOnce)
        let host = BotHostCore.Host(manifest: manifest, plugins: plugins, environment: environment)
        self.host = host
        // Owned by the fixture: ``stop()`` ends the host and awaits this task.
        running = Task { await host.run() }
    }

    /// A manifest for this fixture's emulator and lock directory, for ``BotHostCore/Host/reload(_:)``.
    func manifest(
        bots: String, extra: String = "", limits: String = "off", plugins: [any BotPlugin.Type] = [RecordingPlugin.self]
    ) throws -> Manifest {
        try Self.manifest(
            bots: bots, extra: extra, limits: limits, emulator: emulator, lockDirectory: lockDirectory, plugins: plugins)
    }

    private static func manifest(
        bots: String, extra: String, limits: String, emulator: BotAPIEmulator, lockDirectory: String,
        plugins: [any BotPlugin.Type]
    ) throws -> Manifest {
        let yaml = """
            version: 1
            api_url: \(emulator.baseURL)
            lock: { backend: file, dir: \(lockDirectory) }
            state_dir: \(lockDirectory)/state
            defaults: { limits: \(limits) }
            \(extra)
            bots:
            \(bots)
            """
        return try Manifest.parse(
            yaml: yaml, file: "test.yaml", baseDirectory: ".", environment: [:], plugins: Set(plugins.map { $0.name }))
    }

    /// The host's exit status once it ends by itself.
    var exitStatus: ExitStatus {
        get async { await running.value }
    }

    /// Stops the host as SIGTERM would and returns its exit status. Calling it again
    /// returns the same status.
    func stop() async -> ExitStatus {
        host.requestStop()
        let status = await running.value
        try? FileManager.default.removeItem(atPath: lockDirectory)
        return status
    }

    func state(of bot: String) -> BotState? {
        host.botStatuses[bot]?.state
    }

    /// Waits until `condition` holds, at most `timeout`.
    func waitUntil(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
        await emulator.waitUntil(timeout: timeout, condition)
    }

    func logLines(containing text: String) -> [String] {
        logs.lines.filter { $0.contains(text) }
    }
}

/// A plugin for tests: records what it handled, per bot, and acts on the text it gets:
/// `slow` sleeps 50 ms, `hang` never returns (not even when cancelled), `fail` throws;
/// anything else is echoed.
struct RecordingPlugin: BotPlugin {
    static let name = "recording"
    static let journal = Journal()

    final class Journal: Sendable {
        private let entries = Mutex<[String: [String]]>([:])

        func record(_ text: String, bot: String) {
            entries.withLock { $0[bot, default: []].append(text) }
        }

        func handled(by bot: String) -> [String] {
            entries.withLock { $0[bot] ?? [] }
        }
    }

    let context: BotContext

    init(context: BotContext) async throws {
        self.context = context
    }

    func handle(_ update: Update) async throws {
        guard let message = update.message, let text = message.text else { return }
        switch text {
        case let text where text.hasPrefix("slow"):
            try await Task.sleep(for: .milliseconds(50))
        case let text where text.hasPrefix("hang"):
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
        case let text where text.hasPrefix("fail"):
            struct Refused: Error {}
            Self.journal.record(text, bot: context.botName)
            throw Refused()
        default:
            break
        }
        Self.journal.record(text, bot: context.botName)
        _ = try await context.api.sendMessage(chatID: .id(message.chat.id), text: text)
    }
}

/// The `bots:` line of a bot named `name` that runs ``RecordingPlugin``; `extra` adds keys.
func bot(_ name: String, _ token: BotToken, extra: String = "") -> String {
    "  - { name: \(name), token: \"\(token.secretValue)\", plugin: recording\(extra.isEmpty ? "" : ", \(extra)") }"
}

/// A fresh token for each test, so that tests running in parallel never share a bot.
func uniqueToken() -> BotToken {
    let id = tokenCounter.add(1, ordering: .relaxed).newValue
    return try! BotToken("\(7_000_000 + Int(getpid()) % 1000 * 1000 + id):testsecret-\(id)-XYZabc")
}

private let tokenCounter = Atomic<Int>(0)
