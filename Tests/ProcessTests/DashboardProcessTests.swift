import BotAPIEmulator
import Foundation
import HeadlessBrowser
import TelegramBotAPI
import Testing

extension LongProcessTests {
    /// The admin server's dashboard (`GET /`) in a real headless Chromium.
    @Suite struct DashboardProcessTests {
        /// Where the dashboard's screenshot is kept after a run: an artifact, not committed.
        static let screenshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/artifacts/dashboard.png")

        /// Three bots, one of them busy, and one whose token Telegram rejects: the page lists
        /// every bot, the failed one first with its reason, a non-zero rate for the busy one,
        /// and its console shows no error.
        @Test func theDashboardShowsEveryBotFailingFirstWithoutConsoleErrors() async throws {
            let tokens = processTokens(4, test: 75)
            try await withEmulator(knowing: Array(tokens.prefix(3))) { emulator in
                try await withScratchDirectory { directory in
                    let manifest = try writeManifest(
                        in: directory, emulator: emulator, tokens: tokens, extra: #"admin: { listen: "127.0.0.1:0" }"#)
                    let host = try BothostProcess(["run", manifest], in: directory)
                    let base = try #require(await adminURL(of: host))
                    #expect(
                        await emulator.waitUntil(timeout: .seconds(30)) { tokens.prefix(3).allSatisfy { emulator.isPolling($0) } }
                    )
                    let traffic = Task {
                        var sent = 0
                        while !Task.isCancelled {
                            emulator.sendText("tick \(sent)", to: tokens[0])
                            sent += 1
                            try? await Task.sleep(for: .milliseconds(100))
                        }
                    }
                    defer { traffic.cancel() }
                    #expect(
                        await eventually(timeout: .seconds(30)) {
                            ((try? await listedBots(base)) ?? []).first { $0.name == "bot0" }?.updatesPerSecond ?? 0 > 0
                        })

                    let page = try await HeadlessChromium.session(in: directory) { browser in
                        try browser.open("\(base)/")
                        let loaded = try browser.waitUntil(
                            """
                            document.querySelectorAll("tr[data-bot]").length === 4
                              && Number(document.querySelector('tr[data-bot="bot0"] td.rate').dataset.rate) > 0
                            """)
                        let rows =
                            try browser.evaluate(
                                """
                                [...document.querySelectorAll("tbody tr[data-bot]")].map((row) => [
                                  row.dataset.bot, row.dataset.state, row.querySelector("td.rate").dataset.rate,
                                  row.querySelector("svg.spark polyline") !== null,
                                ].join("|"))
                                """) as? [String] ?? []
                        try browser.screenshot(to: Self.screenshot)
                        _ = try browser.evaluate("document.title")
                        return (loaded: loaded, rows: rows, errors: browser.consoleErrors)
                    }
                    traffic.cancel()

                    #expect(page.loaded, "\(page.rows)")
                    let cells = page.rows.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
                    #expect(Set(cells.map { $0[0] }) == ["bot0", "bot1", "bot2", "bot3"])
                    #expect(cells.first?[0] == "bot3", "the failed bot comes first: \(page.rows)")
                    #expect(cells.first?[1] == "failed: token rejected")
                    #expect(Double(cells.first { $0[0] == "bot0" }?[2] ?? "") ?? 0 > 0)
                    #expect(cells.allSatisfy { $0[3] == "true" }, "every bot has its sparkline")
                    #expect(page.errors.isEmpty, "console errors: \(page.errors)")
                    #expect(FileManager.default.fileExists(atPath: Self.screenshot.path))
                    print("dashboard: screenshot at \(Self.screenshot.path)")

                    host.signal(SIGTERM)
                    #expect(await host.exitCode() == 1, "a bot failed")
                    #expect(!host.stderr.contains(processSecret))
                }
            }
        }
    }
}
