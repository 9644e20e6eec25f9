import BotHostKit
import Testing

@testable import BotHostCore

@Suite struct DurationSyntaxTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("5s", .seconds(5)),
        ("2m", .seconds(120)),
        ("1h", .seconds(3600)),
        ("30", .seconds(30)),
        ("0", .zero),
        ("0.5", .milliseconds(500)),
        ("0.1s", .milliseconds(100)),
        ("1.5m", .seconds(90)),
        ("0.25ms", .microseconds(250)),
        ("365h", .seconds(365 * 3600)),
    ])
    func parses(text: String, duration: Duration) {
        #expect(DurationSyntax.parse(text) == .success(duration))
    }

    @Test(arguments: ["", "s", "5 s", "5sec", "1d", "1e3", ".5s", "5.s", "1_000", "+5s", "5S", "0x10", "1.2.3"])
    func rejectsJunk(text: String) {
        #expect(DurationSyntax.parse(text) == .failure(.malformed))
    }

    @Test func rejectsNegativeAndHugeDurations() {
        #expect(DurationSyntax.parse("-5s") == .failure(.negative))
        #expect(DurationSyntax.parse("-1") == .failure(.negative))
        #expect(DurationSyntax.parse("366d") == .failure(.malformed))
        #expect(DurationSyntax.parse("8761h") == .failure(.tooLong))
        #expect(DurationSyntax.parse("99999999999999999999999h") == .failure(.tooLong))
        #expect(DurationSyntax.parse("9223372036854775807h") == .failure(.tooLong))
    }

    @Test func formatsForMessages() {
        #expect(formatDuration(.seconds(50)) == "50s")
        #expect(formatDuration(.milliseconds(250)) == "250ms")
        #expect(formatDuration(.milliseconds(1500)) == "1.5s")
    }
}

@Suite struct NearestNameTests {
    @Test func suggestsTypos() {
        let keys = BotKey.allCases.map(\.rawValue)
        #expect(NearestName.nearest(to: "tokn", among: keys) == "token")
        #expect(NearestName.nearest(to: "plugins", among: keys) == "plugin")
        #expect(NearestName.nearest(to: "Handler-Timeout", among: keys) == "handler_timeout")
        #expect(NearestName.nearest(to: "delete_webhooks", among: keys) == "delete_webhook")
    }

    @Test func staysQuietWhenNothingIsClose() {
        let keys = BotKey.allCases.map(\.rawValue)
        #expect(NearestName.nearest(to: "colour", among: keys) == nil)
        #expect(NearestName.nearest(to: "x", among: keys) == nil)
        #expect(NearestName.nearest(to: "anything", among: []) == nil)
    }

    @Test func editDistance() {
        #expect(NearestName.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(NearestName.editDistance([], Array("abc")) == 3)
        #expect(NearestName.editDistance(Array("same"), Array("same")) == 0)
        #expect(NearestName.editDistance(Array("lable"), Array("label")) == 1)
        #expect(NearestName.nearest(to: "stpe", among: ["step", "text"]) == "step")
    }
}

@Suite struct SafeQuoteTests {
    @Test func quotesPlainShortValues() {
        #expect(SafeQuote.quoted("postgress") == "'postgress'")
        #expect(SafeQuote.quoted("5 sec") == "'5 sec'")
        #expect(SafeQuote.suffix("ecko") == " 'ecko'")
    }

    @Test func neverQuotesWhatMightBeAToken() {
        #expect(SafeQuote.quoted("123456:AAH") == nil)
        #expect(SafeQuote.quoted("AAHleakCANARYleakCANARYleakCANARY12") == nil)
        #expect(SafeQuote.quoted("") == nil)
        #expect(SafeQuote.quoted("line\nbreak") == nil)
        #expect(SafeQuote.suffix("123456:AAH") == "")
    }
}

@Suite struct ManifestProblemTests {
    @Test func printsAsFileLineColumnPathMessage() {
        let problem = ManifestProblem(
            location: SourceLocation(file: "bots.yaml", line: 12, column: 7),
            path: "bots[1].retry.max_delay",
            message: "must be at least 1ms (found 0s)"
        )
        let whole = ManifestProblem(wholeFile: "bots.yaml", message: "the manifest is empty")

        #expect(problem.description == "bots.yaml:12:7: bots[1].retry.max_delay: must be at least 1ms (found 0s)")
        #expect(whole.description == "bots.yaml:1:1: manifest: the manifest is empty")
        #expect(ManifestError(problems: [problem, whole]).description == "\(problem)\n\(whole)")
    }
}
