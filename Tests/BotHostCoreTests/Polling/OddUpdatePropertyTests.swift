import BotAPIEmulator
import BotHostKit
import BotHostTesting
import Foundation
import PropertyBased
import TelegramBotAPI
import Testing

@testable import BotHostCore

/// Whatever field of whatever update does not fit the model, every update that does fit is
/// handled, and the bot polls on.
@Suite struct OddUpdatePropertyTests {
    /// One change to a message: a field removed, given another JSON type, or `null`; or
    /// none (an empty path).
    struct Mutation: Sendable, CustomStringConvertible {
        enum Change: Sendable, CaseIterable { case remove, retype, null }
        let path: [String]
        let change: Change
        var description: String { path.isEmpty ? "unchanged" : "\(change) \(path.joined(separator: "."))" }

        static let unchanged = Mutation(path: [], change: .remove)

        static let all: [Mutation] = [
            ["message_id"], ["from"], ["from", "id"], ["from", "is_bot"], ["from", "first_name"], ["chat"], ["chat", "id"],
            ["chat", "type"], ["date"], ["text"],
        ].flatMap { path in Change.allCases.map { Mutation(path: path, change: $0) } }

        func applied(to value: JSONValue) -> JSONValue {
            guard case .object(var fields) = value, let key = path.first else { return value }
            if path.count > 1 {
                fields[key] = fields[key].map { Mutation(path: Array(path.dropFirst()), change: change).applied(to: $0) }
                return .object(fields)
            }
            switch change {
            case .remove: fields[key] = nil
            case .null: fields[key] = .null
            case .retype:
                fields[key] =
                    switch fields[key] {
                    case .string?: .number(7)
                    case .number?: .string("7")
                    case .bool?: .string("yes")
                    default: .string("x")
                    }
            }
            return .object(fields)
        }
    }

    @Test func oddFieldsNeverHoldBackTheUpdatesThatFit() async throws {
        let token = uniqueToken()
        let name = "property-\(token.botID)"
        try await withHost(bots: "  - { name: \(name), token: \"\(token.secretValue)\", plugin: recording }", tokens: [token]) {
            fixture in
            #expect(await fixture.waitUntil { fixture.state(of: name) == .polling })
            // About half the messages are left as they are.
            let batches = Gen.element(of: Array(repeating: Mutation.unchanged, count: Mutation.all.count) + Mutation.all).array(
                of: 1...8)
            var batch = 0
            var expected: [String] = []
            await propertyCheck(count: 40, input: batches) { mutations in
                batch += 1
                for (index, mutation) in mutations.compactMap({ $0 }).enumerated() {
                    let text = "b\(batch)-\(index)"
                    let message: JSONValue = [
                        "message_id": .number(Double(batch * 100 + index)),
                        "from": ["id": 42, "is_bot": false, "first_name": "Alice"],
                        "chat": ["id": .number(Double(index % 3 + 1)), "type": "private"], "date": 1, "text": .string(text),
                    ]
                    let sent = mutation.applied(to: message)
                    if Self.fitsTheModel(sent), case .string(let handled)? = sent["text"] { expected.append(handled) }
                    fixture.emulator.injectUpdate(kind: "message", payload: sent, to: token)
                }
                let want = expected
                let handled = await fixture.waitUntil(timeout: .seconds(10)) {
                    Set(want).isSubset(of: Set(RecordingPlugin.journal.handled(by: name)))
                }
                #expect(handled, "not handled: \(Set(want).subtracting(RecordingPlugin.journal.handled(by: name)))")
                #expect(fixture.state(of: name) == .polling)
            }
            print("\(batch) batches: \(expected.count) updates fit the model and were handled")
            #expect(RecordingPlugin.journal.handled(by: name).count == expected.count)
            #expect(!fixture.logLines(containing: "update does not fit the Bot API model").isEmpty)
            #expect(await fixture.stop() == .success)
        }
    }

    /// Whether `message` decodes as a `Message` of an `Update`.
    private static func fitsTheModel(_ message: JSONValue) -> Bool {
        let update: JSONValue = ["update_id": 1, "message": message]
        guard let data = try? JSONEncoder().encode(update) else { return false }
        return (try? JSONDecoder().decode(Update.self, from: data))?.message != nil
    }
}
