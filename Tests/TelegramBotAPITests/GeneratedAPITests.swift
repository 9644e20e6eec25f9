import BotAPIGenerator
import Foundation
import Testing

@testable import TelegramBotAPI

/// The package's root, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The shared Bot API description the generated sources come from.
let specURL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/telegram-bot-api/api.json")

@Suite struct GeneratedAPITests {
    @Test func everyMethodOfTheSpecIsInTheClientsTable() throws {
        let spec = try BotAPISpec(contentsOf: specURL)
        #expect(spec.methods.count == 180)
        #expect(Set(BotAPIMethod.allNames) == Set(spec.methods.keys))
        #expect(BotAPIMethod.allNames.count == spec.methods.count)
        for method in BotAPIMethod.all {
            let fields = spec.methods[method.name]?.fields ?? []
            #expect(method.required == fields.filter(\.required).map(\.name), "\(method.name)")
            #expect(method.optional == fields.filter { !$0.required }.map(\.name), "\(method.name)")
        }
        #expect(BotAPIMethod.named("SENDMESSAGE")?.name == "sendMessage")
    }

    @Test func theCommittedSourcesAreTheGeneratorsOutput() throws {
        let spec = try BotAPISpec(contentsOf: specURL)
        let generated = BotAPIGenerator.generate(spec)
        let directory = packageRoot.appendingPathComponent("Sources/TelegramBotAPI/Generated")
        let committed = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(Set(committed) == Set(generated.keys), "run generate-bot-api (see Package.swift)")
        for (name, text) in generated {
            let onDisk = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text, "\(name) differs from the generator's output: run generate-bot-api")
        }
        #expect(BotAPIGenerator.generate(spec) == generated, "the output is deterministic")
    }

    @Test func everyTypeIsGenerated() throws {
        let spec = try BotAPISpec(contentsOf: specURL)
        #expect(Set(BotAPITypes.all.keys) == Set(spec.types.keys).subtracting(["InputFile"]))
    }

    /// Every type, from a sample holding every field of the spec at the top and the
    /// required ones below, decodes and encodes back to the same JSON.
    @Test func everyTypeDecodesFromASampleAndEncodesBack() throws {
        let schema = BotAPISchema.shared
        var failures: [String] = []
        for (name, type) in BotAPITypes.all.sorted(by: { $0.key < $1.key }) {
            for optionalFields in [false, true] {
                let sample = schema.sample(of: name, optionalFields: optionalFields)
                do {
                    let value = try type.init(json: sample)
                    if value.json != sample { failures.append("\(name): \(value.json) != \(sample)") }
                    if "\(value)".contains("unknown(") && !"\(sample)".contains("unknown") {
                        failures.append("\(name): decoded as an unknown kind")
                    }
                } catch let error as DecodingError {
                    failures.append("\(name): \(error.fieldProblem)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) types: \(failures.prefix(10))")
    }

    @Test func aRequiredFieldMissingIsNamed() throws {
        var sample = BotAPISchema.shared.sample(of: "ChatMemberUpdated")
        if case .object(var fields) = sample {
            fields["from"] = .object(["id": 5, "first_name": "A"])
            sample = .object(fields)
        }
        #expect(throws: DecodingError.self) { try ChatMemberUpdated(json: sample) }
        do {
            _ = try ChatMemberUpdated(json: sample)
        } catch let error as DecodingError {
            #expect(error.fieldProblem == "from.is_bot: missing")
        }
    }

    @Test func unionsReadTheirKindAndKeepUnknownOnes() throws {
        let owner = try ChatMember(
            jsonText: Data(#"{"status":"creator","user":{"id":1,"is_bot":false,"first_name":"A"},"is_anonymous":false}"#.utf8))
        guard case .owner(let member) = owner else { Issue.record("\(owner)"); return }
        #expect(member.user.firstName == "A")
        let future = try ReactionType(jsonText: Data(#"{"type":"sticker_2031","sticker":"x"}"#.utf8))
        #expect(future == .unknown(["type": "sticker_2031", "sticker": "x"]))
        #expect(future.json == ["type": "sticker_2031", "sticker": "x"])
        let cached = try InlineQueryResult(json: ["type": "audio", "id": "1", "audio_file_id": "f"])
        guard case .cachedAudio = cached else { Issue.record("\(cached)"); return }
        let inaccessible = try MaybeInaccessibleMessage(
            json: ["chat": ["id": 5, "type": "private"], "message_id": 3, "date": 0])
        guard case .inaccessibleMessage = inaccessible else { Issue.record("\(inaccessible)"); return }
        #expect(inaccessible.chat?.id == 5)
        let rich = try RichText(json: ["plain", ["type": "bold", "text": "strong"]])
        #expect(rich == .array([.string("plain"), .bold(RichTextBold(text: .string("strong")))]))
    }

    @Test func codableAgreesWithTheFastPath() throws {
        let text = Data(#"{"id":7,"is_bot":false,"first_name":"Ann","language_code":"en","x_new":[1]}"#.utf8)
        let fast = try User(jsonText: text)
        let slow = try JSONDecoder().decode(User.self, from: text)
        #expect(fast == slow)
        #expect(fast.unknownFields == ["x_new": [1]])
        let encoded = try JSONValue(parsing: JSONEncoder().encode(fast))
        #expect(encoded == (try JSONValue(parsing: text)))
    }

    @Test func namesFollowOneRule() {
        let button = InlineKeyboardButton(text: "Docs", url: "https://example.com", callbackData: nil)
        #expect(button.json == ["text": "Docs", "url": "https://example.com"])
        let message = Message(messageID: 1, date: 2, chat: Chat(id: 3, type: "private"), text: "hi")
        #expect(message.json == ["message_id": 1, "date": 2, "chat": ["id": 3, "type": "private"], "text": "hi"])
        let reply = ReplyParameters(messageID: 9, chatID: "@channel")
        #expect(reply.json == ["message_id": 9, "chat_id": "@channel"])
    }
}
