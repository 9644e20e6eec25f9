import Testing

@testable import BotHostCore

@Suite struct PrometheusTextTests {
    @Test func familiesOfSeveralSourcesStayTogetherUnderOneHeader() {
        let supervisor = """
            # TYPE bothost_bot_state gauge
            bothost_bot_state{bot="a",state="polling"} 1
            bothost_bot_state{bot="b",state="polling"} 1
            """
        let first = """
            # TYPE bothost_bot_state gauge
            bothost_bot_state{bot="a",state="polling"} 0
            # TYPE bothost_polls_total counter
            bothost_polls_total{bot="a"} 3
            """
        let second = """
            # TYPE bothost_polls_total counter
            bothost_polls_total{bot="b"} 5
            # TYPE bothost_handler_duration_seconds histogram
            bothost_handler_duration_seconds_bucket{bot="b",le="0.1"} 2
            bothost_handler_duration_seconds_sum{bot="b"} 0.01
            """
        let merged = PrometheusText.merge([supervisor, first, second])
        #expect(
            merged == """
                # TYPE bothost_bot_state gauge
                bothost_bot_state{bot="a",state="polling"} 1
                bothost_bot_state{bot="b",state="polling"} 1
                # TYPE bothost_polls_total counter
                bothost_polls_total{bot="a"} 3
                bothost_polls_total{bot="b"} 5
                # TYPE bothost_handler_duration_seconds histogram
                bothost_handler_duration_seconds_bucket{bot="b",le="0.1"} 2
                bothost_handler_duration_seconds_sum{bot="b"} 0.01

                """, "the supervisor's bot states win over a worker's")
    }

    @Test func aFamilyRepeatedWithinOneSourceComesOutOnce() {
        // A host's text has each family once per registry (``HostMetrics``).
        let supervisor = """
            # TYPE bothost_bot_state gauge
            bothost_bot_state{bot="a",state="polling"} 1
            # TYPE bothost_bot_state gauge
            bothost_bot_state{bot="b",state="polling"} 1
            """
        let worker = """
            # HELP bothost_polls_total Polls.
            # TYPE bothost_polls_total counter
            bothost_polls_total{bot="a"} 3
            # HELP bothost_polls_total Polls.
            # TYPE bothost_polls_total counter
            bothost_polls_total{bot="b"} 5
            """
        #expect(
            PrometheusText.merge([supervisor, worker]) == """
                # TYPE bothost_bot_state gauge
                bothost_bot_state{bot="a",state="polling"} 1
                bothost_bot_state{bot="b",state="polling"} 1
                # HELP bothost_polls_total Polls.
                # TYPE bothost_polls_total counter
                bothost_polls_total{bot="a"} 3
                bothost_polls_total{bot="b"} 5

                """)
    }
}
