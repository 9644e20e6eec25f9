import BotHostKit
import Foundation
import Logging
import TelegramBotAPI

/// What the control API does, HTTP aside: list the bots, pause, resume and restart one,
/// list and replay dead letters, reload the manifest.
///
/// Every change is logged with who asked for it (the peer's address), and shows in
/// `/health`, `/metrics` and on the dashboard as the bots' states change.
struct FleetControl: Sendable {
    let host: Host
    let rates: UpdateRates
    /// `nil` when the host has no manifest file to read again (a host built in a test).
    let reloader: ManifestReloader?
    let journals: any JournalStorage
    let logger: Logger

    /// Why a request was not done, in words for the answer.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        case unknownBot(String)
        case notRunning(String, BotState)
        /// The catalog's message, which names the id.
        case unknownDeadLetter(String)
        /// The manifest's problems, each `FILE:LINE:COL: path: message`.
        case invalidManifest([String])
        /// Starting up or stopping: there is no fleet to change, or no manifest to read.
        case notNow(String)
        case failed(String)

        var description: String {
            switch self {
            case .unknownBot(let name): "no bot named '\(name)' in this host"
            case .notRunning(let name, .failed): "bot \(name) has failed; restart it to start it afresh"
            case .notRunning(let name, .skipped): "bot \(name) is skipped: another host polls it"
            case .notRunning(let name, .standby): "bot \(name) stands by for its lock, which another host holds"
            case .notRunning(let name, let state): "bot \(name) is \(state.rawValue)"
            case .unknownDeadLetter(let message): message
            case .invalidManifest(let problems):
                "the manifest has \(problems.count) problem\(problems.count == 1 ? "" : "s"); the running bots are kept"
            case .notNow(let reason), .failed(let reason): reason
            }
        }
    }

    /// How long pause and resume wait for the bot's state to show them before answering.
    static let settleTimeout = Duration.seconds(5)

    func bots() -> BotList {
        let (running, skipped) = host.fleet?.listing() ?? ([], [])
        let now = ContinuousClock.now
        let rows =
            running.map { listed in
                BotRow(
                    name: listed.bot.name, lock: listed.bot.lockID, snapshot: listed.snapshot, paused: listed.paused,
                    updatesPerSecond: rates.perSecond(listed.bot.name, handled: listed.snapshot.updatesHandled, at: now))
            }
            + skipped.map { bot in
                BotRow(
                    name: bot.name, lock: bot.lockID, snapshot: BotStatus.Snapshot(state: .skipped), paused: false,
                    updatesPerSecond: 0)
            }
        return BotList(pid: getpid(), uptimeSeconds: (now - host.started).seconds, bots: rows)
    }

    func pause(_ name: String, by peer: String) async throws(Refusal) -> BotRow? {
        try setPaused(name, true, by: peer)
        return await row(of: name) { $0.state == BotState.paused.rawValue }
    }

    func resume(_ name: String, by peer: String) async throws(Refusal) -> BotRow? {
        try setPaused(name, false, by: peer)
        return await row(of: name) { $0.state != BotState.paused.rawValue }
    }

    /// Answers once the restart is under way: the stop sequence may take its
    /// `drain_timeout` and hook timeouts.
    func restart(_ name: String, by peer: String) async throws(Refusal) -> BotRow? {
        guard let fleet = host.fleet else { throw .notNow("the host is starting") }
        do {
            try await fleet.restart(name)
        } catch {
            throw Self.refusal(error, name: name)
        }
        logger.info("control: restart asked by \(peer)", metadata: ["bot": "\(name)"])
        return await row(of: name) { _ in true }
    }

    func deadLetters() async throws(Refusal) -> [DeadLetterRow] {
        do {
            return try await catalog().list().map(\.row)
        } catch {
            throw .failed("\(error)")
        }
    }

    /// Hands a dead letter back to its bot, which tries it again at once.
    func replay(_ id: String, by peer: String) async throws(Refusal) {
        do {
            try await catalog().apply(.replay, to: [id])
        } catch let unknown as DeadLetterCatalog.UnknownID {
            throw .unknownDeadLetter(unknown.description)
        } catch {
            throw .failed("\(error)")
        }
        let bot = id.lastIndex(of: "-").map { String(id[..<$0]) } ?? id
        host.fleet?.wakeJournal(of: bot)
        logger.info("control: dead letter \(id) handed back by \(peer)", metadata: ["bot": "\(bot)"])
    }

    /// Reads the manifest again and applies it, as SIGHUP does.
    func reload(by peer: String) async throws(Refusal) -> ReloadSummary {
        guard let reloader else { throw .notNow("this host has no manifest file to read again") }
        switch await reloader.reload(cause: "POST /reload from \(peer)") {
        case .applied(let summary): return summary
        case .invalid(let problems): throw .invalidManifest(problems.map(\.description))
        case .stopping: throw .notNow("the host is stopping")
        }
    }

    private func setPaused(_ name: String, _ paused: Bool, by peer: String) throws(Refusal) {
        guard let fleet = host.fleet else { throw .notNow("the host is starting") }
        do {
            try fleet.setPaused(name, paused)
        } catch {
            throw Self.refusal(error, name: name)
        }
        logger.info("control: \(paused ? "paused" : "resumed") by \(peer)", metadata: ["bot": "\(name)"])
    }

    /// The bot's row once `settled` holds, or as it is after ``settleTimeout``; `nil` when
    /// the host no longer has the bot (a failed bot whose lock could not be taken again).
    private func row(of name: String, settled: (BotRow) -> Bool) async -> BotRow? {
        let deadline = ContinuousClock.now + Self.settleTimeout
        while let row = bots().bots.first(where: { $0.name == name }) {
            if settled(row) || ContinuousClock.now >= deadline { return row }
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { return row }
        }
        return nil
    }

    private func catalog() -> DeadLetterCatalog {
        let bots = host.fleet?.listing().running.map(\.bot) ?? []
        return DeadLetterCatalog(bots: bots, journals: journals, scope: " in this host")
    }

    private static func refusal(_ error: BotFleet.ControlRefusal, name: String) -> Refusal {
        switch error {
        case .unknownBot: .unknownBot(name)
        case .notRunning(let state): .notRunning(name, state)
        }
    }
}
