import Foundation
import NIOCore
import Testing

@testable import TelegramBotAPI

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue(parsing: Data(text.utf8))
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" { "a": [1, -2.5, 3e2, 0, -0.125E-1], "b": {"c": null}, "t": true, "f": false, "s": "x" } "#)
        #expect(
            value == [
                "a": [1, -2.5, 300, 0, -0.0125], "b": ["c": nil], "t": true, "f": false, "s": "x",
            ])
        #expect(try parse("[]") == [])
        #expect(try parse("{}") == [:])
        #expect(try parse(#""""#) == "")
    }

    @Test func decodesEscapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2D \ud83d\ude00""#) == .string("é中 😀"))
        #expect(try parse(#""lone \ud83d surrogate""#) == .string("lone \u{FFFD} surrogate"))
        #expect(try parse(#""héllo 😀""#) == .string("héllo 😀"))
    }

    @Test func keepsIntegersExactUpToTelegramsIDs() throws {
        #expect(try parse("-1001234567890123") == .number(-1001234567890123))
        // Past 2^53 a number rounds as Double does: JSON numbers are doubles.
        #expect(try parse("9007199254740993") == .number(Double("9007199254740993")!))
        #expect(try parse("123456789012345678901234567890") == .number(123456789012345678901234567890.0))
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "01", "-", "1.", "1e", "+1", ".5", "tru", "nul",
        "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "[1] 2", "{\"a\":1}}", "NaN",
    ])
    func rejectsWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func refusesNestingDeeperThanTheStackCanTake() {
        #expect(throws: JSONParseError.self) { try parse(String(repeating: "[", count: 100_000)) }
    }

    @Test func agreesWithJSONDecoder() throws {
        let text = #"""
            {"update_id": 7, "message": {"message_id": 3, "from": {"id": 1, "is_bot": false, "first_name": "A"},
             "chat": {"id": -100123, "type": "group", "title": "T"}, "date": 1700000000, "text": "hi \u263a",
             "entities": [{"type": "bold", "offset": 0, "length": 2}], "future": {"x": [true, null, 1.5]}}}
            """#
        #expect(try parse(text) == JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
    }
}

@Suite struct ModelDecodingTests {
    @Test func anUpdateDecodedWithJSONDecoderKeepsItsRawObjectAndKind() throws {
        let text = #"""
            {"update_id": 9, "message": {"message_id": 4, "chat": {"id": 5, "type": "private"}, "date": 1, "text": "t",
             "new_field": 1}}
            """#
        let update = try JSONDecoder().decode(Update.self, from: Data(text.utf8))
        #expect(update.updateID == 9)
        #expect(update.kind == "message")
        #expect(update.message?.text == "t")
        #expect(update.chatID == 5)
        #expect(update.message?.unknownFields["new_field"] == 1)
        #expect(update.raw == (try JSONValue(parsing: Data(text.utf8))))
    }

    @Test(arguments: [
        #"{"message": {}}"#,
        #"{"update_id": "9"}"#,
        #"{"update_id": 9.5}"#,
        #"{"update_id": 9, "message": {"message_id": 4, "date": 1}}"#,
        #"[]"#,
    ])
    func anUpdateMissingARequiredFieldIsADecodingError(_ text: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Update.self, from: Data(text.utf8)) }
    }
}

@Suite struct JSONWriterTests {
    @Test func writtenTextParsesBackToTheSameValue() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ newline \n tab \t bell \u{7} é 😀", "chat_id": -1001234567890,
            "ratio": 0.25, "flags": [true, false, nil], "nested": ["empty": [:], "list": []],
        ]
        var buffer = ByteBuffer()
        value.write(to: &buffer)
        #expect(try JSONValue(parsing: Data(buffer.readableBytesView)) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) == value)
    }

    @Test func wholeNumbersHaveNoFraction() {
        var buffer = ByteBuffer()
        JSONValue.array([42, -1001234567890, 1.5]).write(to: &buffer)
        #expect(String(buffer: buffer) == "[42,-1001234567890,1.5]")
    }
}
