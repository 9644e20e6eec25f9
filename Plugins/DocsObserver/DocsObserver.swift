public import BotHostKit
import Foundation

/// `plugin: docs-observer`: a small retrieval bot over a folder of text files.
///
/// It indexes every paragraph of the folder's `.txt` and `.md` files, watches the folder
/// (files added, changed or removed are re-indexed within `rescan_every`), and answers
/// `/ask <question>` with the paragraph that best matches the question.
///
/// ```yaml
/// settings: { folder: examples/docs, rescan_every: 2s }
/// ```
/// The watcher stops through the `rag-observer` shutdown hook.
public struct DocsObserver: BotPlugin {
    public static let name = "docs-observer"

    /// `folder` is required; `rescan_every` defaults to 2 s.
    public struct Settings: Codable, Sendable {
        public var folder: String
        public var rescanEvery: SettingDuration?

        enum CodingKeys: String, CodingKey {
            case folder
            case rescanEvery = "rescan_every"
        }
    }

    private let context: BotContext
    private let index: ParagraphIndex

    public init(context: BotContext) async throws {
        let settings = try context.settings.decode(Settings.self)
        self.context = context
        let index = ParagraphIndex(folder: settings.folder)
        self.index = index
        let summary = try index.rescan()
        context.logger.info("indexed \(summary.paragraphs) paragraphs from \(summary.files) files in \(settings.folder)")
        let watcher = context.scheduler.every(settings.rescanEvery?.duration ?? .seconds(2), name: "docs-rescan") {
            let summary = try index.rescan()
            if summary.changedFiles > 0 {
                context.logger.info("re-indexed \(summary.changedFiles) changed files: \(summary.paragraphs) paragraphs")
            }
        }
        try context.shutdown.register("rag-observer") {
            watcher.cancel()
            context.logger.info("stopped watching \(settings.folder)")
        }
    }

    public func handle(_ update: Update) async throws {
        guard let message = update.message, let text = message.text, text.hasPrefix("/ask") else { return }
        let question = text.dropFirst("/ask".count).trimmingCharacters(in: .whitespaces)
        let answer: String
        if question.isEmpty {
            answer = "Ask me something: /ask how do I write a plugin?"
        } else if let best = index.bestMatch(for: question) {
            answer = "\(best.text)\n\n(\(best.file))"
        } else {
            answer = "I found nothing about that in the docs."
        }
        try await context.api.sendMessage(
            chatID: .id(message.chat.id), text: answer, replyParameters: ReplyParameters(messageID: message.messageID))
    }
}
