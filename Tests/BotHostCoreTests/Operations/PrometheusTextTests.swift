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
}
