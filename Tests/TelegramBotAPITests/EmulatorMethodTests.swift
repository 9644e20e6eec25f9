import BotAPIEmulator
import Foundation
import Testing

@testable import TelegramBotAPI

@Suite struct EmulatorMethodTests {
    @Test func unknownMethodsAreNotFound() async throws {
        _ = try await withClient { _, client in
            await #expect(throws: BotAPIError.notFound(description: "Not Found: method not found")) {
                _ = try await client.send(BotAPIRequest(method: "sendTelepathy"), as: Bool.self)
            }
        }
    }

    @Test func missingParametersAreRefusedInTelegramsWords() async throws {
        try await withClient { emulator, client in
            await #expect(throws: BotAPIError.rejected(status: 400, description: "Bad Request: message text is empty")) {
                try await client.sendMessage(chatID: 5, text: "")
            }
            var photo = BotAPIRequest(method: "sendPhoto")
            photo.add("chat_id", ChatID.id(5))
            await #expect(throws: BotAPIError.rejected(status: 400, description: "Bad Request: photo is empty")) {
                _ = try await client.send(photo, as: Message.self)
            }
            await #expect(throws: BotAPIError.rejected(status: 400, description: "Bad Request: chat not found")) {
                try await client.sendMessage(chatID: "@nobody_here", text: "hi")
            }
            emulator.addChat(id: -100_200, username: "somebody_here", for: testToken)
            try await client.sendMessage(chatID: "@somebody_here", text: "hi")
            emulator.requireKnownChats()
            defer { emulator.requireKnownChats(false) }
            await #expect(throws: BotAPIError.rejected(status: 400, description: "Bad Request: chat not found")) {
                try await client.sendMessage(chatID: 31337, text: "hi")
            }
            try await client.sendMessage(chatID: -100_200, text: "known")
            let refused = emulator.calls(by: testToken).filter { $0.error != nil }
            #expect(refused.map(\.method) == ["sendMessage", "sendPhoto", "sendMessage", "sendMessage"])
        }
    }

    @Test func inlineKeyboardsAndCallbackAnswersAreRecordedTyped() async throws {
        try await withClient { emulator, client in
            let keyboard = ReplyMarkup.inline([[.callback("Yes", data: "yes"), .callback("No", data: "no")]])
            let sent = try await client.sendMessage(chatID: 5, text: "Continue?", replyMarkup: keyboard)
            #expect(sent.replyMarkup?.inlineKeyboard.first?.map(\.text) == ["Yes", "No"])
            try await client.answerCallbackQuery(callbackQueryID: "q1", text: "Noted", showAlert: false)
            let edited = try await client.editMessageText(chatID: 5, messageID: sent.messageID, text: "Done")
            #expect(edited.message?.text == "Done")
            let calls = emulator.calls(by: testToken)
            #expect(calls.map(\.method) == ["sendMessage", "answerCallbackQuery", "editMessageText"])
            #expect(calls[0].parameter("reply_markup", as: ReplyMarkup.self) == keyboard)
            #expect(calls[1].parameter("show_alert", as: Bool.self) == false)
            #expect(calls[0].message?.text == "Continue?")
        }
    }

    @Test func filesGoAsMultipartStreamedFromDisk() async throws {
        try await withClient { emulator, client in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString).bin")
            let size = 3 * MultipartForm.chunkSize + 123
            try Data((0..<size).map { UInt8(truncatingIfNeeded: $0) }).write(to: path)
            defer { try? FileManager.default.removeItem(at: path) }

            let photo = try await client.sendPhoto(
                chatID: 5, photo: .path(path.path, fileName: "view.jpg", contentType: "image/jpeg"), caption: "the view",
                replyMarkup: .inline([[.link("Open", url: "https://example.com")]]))
            #expect(photo.photo?.first?.fileSize == size)
            #expect(photo.caption == "the view")
            let document = try await client.sendDocument(chatID: 5, document: .bytes(Data("hello".utf8), fileName: "a.txt"))
            #expect(document.document?.fileSize == 5)
            let byID = try await client.sendDocument(chatID: 5, document: .fileID("BQACAgQAAxkB"))
            #expect(byID.document != nil)
            let album = try await client.sendMediaGroup(
                chatID: 5,
                media: [
                    .photo(InputMediaPhoto(media: .path(path.path))),
                    .photo(InputMediaPhoto(media: .bytes(Data([1, 2, 3]), fileName: "b.jpg"))),
                    .photo(InputMediaPhoto(media: .url("https://example.com/c.jpg"))),
                ])
            #expect(album.count == 3)

            let calls = emulator.calls(by: testToken)
            #expect(calls.map(\.method) == ["sendPhoto", "sendDocument", "sendDocument", "sendMediaGroup"])
            #expect(calls[0].files == [RecordedFile(name: "photo", fileName: "view.jpg", contentType: "image/jpeg", size: size)])
            #expect(calls[0].parameters["caption"] == "the view")
            #expect(calls[0].parameter("chat_id", as: ChatID.self) == .id(5))
            #expect(calls[0].parameter("reply_markup", as: ReplyMarkup.self) != nil)
            #expect(calls[1].files.map(\.size) == [5])
            #expect(calls[2].files.isEmpty && calls[2].parameters["document"] == "BQACAgQAAxkB")
            #expect(calls[3].files.map(\.name) == ["file0", "file1"])
            #expect(calls[3].files.map(\.size) == [size, 3])
            let media = try #require(calls[3].parameter("media", as: [InputMedia].self))
            #expect(
                media.map(\.json) == [
                    ["type": "photo", "media": "attach://file0"], ["type": "photo", "media": "attach://file1"],
                    ["type": "photo", "media": "https://example.com/c.jpg"],
                ])
        }
    }

    @Test func aMissingFileFailsBeforeAnythingIsSent() async throws {
        try await withClient { emulator, client in
            await #expect(throws: InputFile.ReadError.self) {
                try await client.sendPhoto(chatID: 5, photo: .path("/nonexistent/photo.jpg"))
            }
            #expect(emulator.calls(by: testToken).isEmpty)
        }
    }

    @Test func aSymlinkSendsItsTargetAndADirectoryIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("photo.jpg")
        try Data(repeating: 7, count: 300_000).write(to: target)
        let link = directory.appendingPathComponent("link.jpg")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try await withClient { emulator, client in
            try await client.sendPhoto(chatID: 5, photo: .path(link.path))
            #expect(emulator.calls(by: testToken).first?.files.map(\.size) == [300_000])
            let error = await #expect(throws: InputFile.ReadError.self) {
                try await client.sendPhoto(chatID: 5, photo: .path(directory.path))
            }
            #expect(error?.description.hasSuffix("it is not a regular file") == true)
            #expect(emulator.calls(by: testToken).count == 1)
        }
    }

    /// Every method, called with its required parameters built from the spec, is answered
    /// with a result of the type its generated method returns.
    @Test func everyMethodAnswersWithItsTypedResult() async throws {
        try await withClient { emulator, client in
            emulator.addChat(id: 1, username: "text", for: testToken)
            let schema = BotAPISchema.shared
            var failures: [String] = []
            for method in BotAPIMethod.all where !["getUpdates", "setWebhook"].contains(method.name) {
                var request = BotAPIRequest(method: method.name)
                for name in method.required {
                    let types = BotAPISpecFields.types(of: name, in: method.name)
                    request.add(name, schema.sample(of: types.first ?? "String"))
                }
                do {
                    let result = try await client.send(request, as: JSONValue.self)
                    try Self.check(result, returns: method.returns)
                } catch {
                    failures.append("\(method.name): \(error)")
                }
            }
            #expect(failures.isEmpty, "\(failures)")
            #expect(emulator.calls(by: testToken).count == BotAPIMethod.all.count - 2)
        }
    }

    /// Decodes `result` as the spec's return type says.
    static func check(_ result: JSONValue, returns: String) throws {
        for type in returns.components(separatedBy: " or ") {
            if type == "Boolean" {
                if case .bool = result { return }
                continue
            }
            let element = type.hasPrefix("Array of ") ? String(type.dropFirst("Array of ".count)) : type
            switch element {
            case "Integer": _ = try Int(json: result)
            case "String": _ = try String(json: result)
            default:
                let model = try #require(BotAPITypes.all[element], "\(element)")
                if type.hasPrefix("Array of ") {
                    guard case .array(let items) = result, !items.isEmpty else { throw BotAPIError.malformedResponse(type) }
                    for item in items { _ = try model.init(json: item) }
                } else {
                    _ = try model.init(json: result)
                }
            }
            return
        }
        throw BotAPIError.malformedResponse("\(result) is not \(returns)")
    }
}

/// A method parameter's spec types, read from the shared spec.
enum BotAPISpecFields {
    static let spec: [String: [String: [String]]] = {
        guard let data = try? Data(contentsOf: specURL),
            case .object(let root)? = try? JSONValue(parsing: data), case .object(let methods)? = root["methods"]
        else { return [:] }
        var table: [String: [String: [String]]] = [:]
        for (name, method) in methods {
            guard case .array(let fields)? = method["fields"] else { continue }
            for field in fields {
                guard let fieldName = field["name"]?.stringValue, case .array(let types)? = field["types"] else { continue }
                table[name, default: [:]][fieldName] = types.compactMap(\.stringValue)
            }
        }
        return table
    }()

    static func types(of parameter: String, in method: String) -> [String] {
        spec[method]?[parameter] ?? ["String"]
    }
}
