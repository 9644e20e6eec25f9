import BotAPIEmulator
import Foundation
import TelegramBotAPI

/// The secret part of every token in these tests; no output may contain it.
let processSecret = "PRoCeSS-secret-7f3a9c1e5b"

/// Tokens unique to this test process and test, so that parallel tests never share a bot.
func processTokens(_ count: Int, test: Int) -> [BotToken] {
    (0..<count).map { try! BotToken("\(900_000 + Int(getpid() % 500) * 1000 + test * 100 + $0):\(processSecret)\($0)") }
}

/// Writes a manifest for `tokens` (bots `bot0`, `bot1`, ...) that polls `emulator`; the
/// lock is a file in `directory/locks` unless `lock` says otherwise. `limits` is the bots'
/// `limits:`; off, since tests send far faster to one chat than Telegram would take.
@discardableResult
func writeManifest(
    in directory: URL, emulator: BotAPIEmulator, tokens: [BotToken], onLocked: String = "fail", name: String = "bots.yaml",
    extra: String = "", pollingTimeout: String = "30s", lock: String? = nil, plugin: String = "echo",
    drainTimeout: String = "10s", limits: String = "off", defaults: String = ""
) throws -> String {
    var yaml = """
        version: 1
        api_url: \(emulator.baseURL)
        lock: \(lock ?? "{ backend: file, dir: \(directory.path)/locks }")
        state_dir: \(directory.path)/state
        on_locked: \(onLocked)
        shutdown: { timeout: 20s, drain_timeout: \(drainTimeout) }
        defaults:
          polling: { timeout: \(pollingTimeout) }
          retry: { max_retries: unlimited, initial_delay: 100ms, max_delay: 1s }
          limits: \(limits)
          \(defaults)
        \(extra)
        bots:

        """
    for (index, token) in tokens.enumerated() {
        yaml += "  - { name: bot\(index), token: \"\(token.secretValue)\", plugin: \(plugin) }\n"
    }
    try yaml.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    return name
}

extension BotAPIEmulator {
    /// Whether a `getUpdates` of this bot is waiting right now.
    func isPolling(_ token: BotToken) -> Bool {
        getUpdatesCalls(of: token).last?.outcome == .pending
    }

    /// Waits until the bot has sent `count` messages; whether it did within `timeout`.
    func waitUntil(sent count: Int, by token: BotToken, timeout: Duration = .seconds(10)) async -> Bool {
        await waitUntil(timeout: timeout) { sentCount(by: token) >= count }
    }

    /// The number of 409s this bot's pollers were answered with.
    func conflicts(of token: BotToken) -> Int {
        getUpdatesCalls(of: token).filter { $0.outcome == .terminatedByOtherPoll }.count
    }
}
