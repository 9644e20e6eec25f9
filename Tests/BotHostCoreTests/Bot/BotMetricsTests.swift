import BotHostKit
import Testing

@testable import BotHostCore

@Suite struct BotMetricsTests {
    @Test func eachFamilyComesOnceWithEveryBotsSamples() {
        let host = HostMetrics()
        let news = host.forNewBot("news", share: .all)
        let shop = host.forNewBot("shop", share: .all)
        news.increment(.polls)
        news.increment(.updatesReceived, by: 3)
        shop.set(.journalBacklog, to: 7)
        shop.show(.polling)
        let text = host.text()
        #expect(text.split(separator: "\n").filter { $0 == "# TYPE bothost_polls_total counter" }.count == 1)
        for line in [
            #"bothost_polls_total{bot="news"} 1"#, #"bothost_polls_total{bot="shop"} 0"#,
            #"bothost_updates_received_total{bot="news"} 3"#, #"bothost_journal_unfinished{bot="shop"} 7"#,
            #"bothost_bot_state{bot="shop",state="polling"} 1"#, #"bothost_bot_state{bot="shop",state="starting"} 0"#,
            #"bothost_bot_state{bot="news",state="starting"} 1"#,
        ] {
            #expect(text.contains(line + "\n"), "missing \(line)")
        }
    }

    @Test func histogramsCountEachSampleInItsBucketAndAbove() {
        let host = HostMetrics()
        let news = host.forNewBot("news", share: .all)
        news.observe(.handlerDuration, .milliseconds(3))
        news.observe(.handlerDuration, .milliseconds(30))
        news.observe(.handlerDuration, .seconds(20))
        let lines = host.text().split(separator: "\n").filter { $0.hasPrefix("bothost_handler_duration_seconds") }
        #expect(lines.contains(#"bothost_handler_duration_seconds_bucket{bot="news",le="0.005"} 1"#))
        #expect(lines.contains(#"bothost_handler_duration_seconds_bucket{bot="news",le="0.025"} 1"#))
        #expect(lines.contains(#"bothost_handler_duration_seconds_bucket{bot="news",le="0.05"} 2"#))
        #expect(lines.contains(#"bothost_handler_duration_seconds_bucket{bot="news",le="10.0"} 2"#))
        #expect(lines.contains(#"bothost_handler_duration_seconds_bucket{bot="news",le="+Inf"} 3"#))
        let sum = lines.first { $0.hasPrefix("bothost_handler_duration_seconds_sum") }?.split(separator: " ").last
        #expect(abs((sum.flatMap { Double($0) } ?? 0) - 20.033) < 1e-9, "seconds")
        #expect(lines.contains(#"bothost_handler_duration_seconds_count{bot="news"} 3"#))
        #expect(lines.count == 14, "11 bounds, +Inf, sum and count")
        #expect(host.text().contains(#"bothost_send_wait_seconds_count{bot="news"} 0"#), "a histogram without samples")
    }

    @Test func theSupervisorWritesStatesAndLocksAndTheWorkerTheRest() {
        let supervisor = HostMetrics()
        let worker = HostMetrics()
        let kept = supervisor.forNewBot("news", share: .supervisor)
        let working = worker.forNewBot("news", share: .worker)
        kept.set(.lockHeld, to: 1)
        working.increment(.polls)
        let supervised = supervisor.text()
        #expect(supervised.contains(#"bothost_lock_held{bot="news"} 1"#))
        #expect(supervised.contains("bothost_bot_state{"))
        #expect(!supervised.contains("bothost_polls_total") && !supervised.contains("bothost_journal_unfinished"))
        let worked = worker.text()
        #expect(worked.contains(#"bothost_polls_total{bot="news"} 1"#))
        #expect(worked.contains("bothost_handler_duration_seconds_count") && worked.contains("bothost_send_queue{"))
        #expect(!worked.contains("bothost_lock_held") && !worked.contains("bothost_bot_state"))
    }

    @Test func aBotWhoseRuntimeEndedLeavesTheText() {
        let host = HostMetrics()
        let kept = host.forNewBot("kept", share: .all)
        do {
            let removed = host.forNewBot("removed", share: .all)
            removed.increment(.polls)
        }
        let text = host.text()
        #expect(text.contains(#"bothost_polls_total{bot="kept"} 0"#))
        #expect(!text.contains("removed"))
        withExtendedLifetime(kept) {}
    }

    @Test func aRuntimeThatReplacesAnotherOfTheSameNameTakesItsSeriesAtOnce() {
        let host = HostMetrics()
        let old = host.forNewBot("news", share: .all)
        old.increment(.polls, by: 5)
        let new = host.forNewBot("news", share: .all)
        new.increment(.polls)
        let polls = host.text().split(separator: "\n").filter { $0.hasPrefix("bothost_polls_total{") }
        #expect(polls == [#"bothost_polls_total{bot="news"} 1"#], "one series, the newest runtime's")
        withExtendedLifetime((old, new)) {}
    }
}
