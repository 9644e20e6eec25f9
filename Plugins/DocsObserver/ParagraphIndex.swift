import Foundation
import Synchronization

/// The paragraphs of a folder's text files, kept current by ``rescan()``, searchable by
/// word overlap weighted by rarity (words found in few paragraphs count more).
final class ParagraphIndex: Sendable {
    struct Paragraph: Sendable {
        var file: String
        var text: String
        var words: Set<String>
    }

    struct Summary {
        var files: Int
        var paragraphs: Int
        var changedFiles: Int
    }

    private struct IndexedFile {
        var modified: Date
        var size: Int
        var paragraphs: [Paragraph]
    }

    let folder: String
    private let files = Mutex<[String: IndexedFile]>([:])

    init(folder: String) {
        self.folder = folder
    }

    /// Re-reads files that are new or changed and forgets removed ones.
    func rescan() throws -> Summary {
        let manager = FileManager.default
        let names = try manager.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".txt") || $0.hasSuffix(".md") }
        var seen: [String: (Date, Int)] = [:]
        for name in names {
            let attributes = try manager.attributesOfItem(atPath: "\(folder)/\(name)")
            seen[name] = ((attributes[.modificationDate] as? Date) ?? .distantPast, (attributes[.size] as? Int) ?? 0)
        }
        let changed = files.withLock { files in
            seen.filter { name, stamp in files[name].map { ($0.modified, $0.size) != stamp } ?? true }.map(\.key)
                + files.keys.filter { seen[$0] == nil }
        }
        var reread: [String: IndexedFile?] = [:]
        for name in changed {
            guard let (modified, size) = seen[name] else {
                reread[name] = .some(nil)
                continue
            }
            let text = (try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)) ?? ""
            reread[name] = IndexedFile(modified: modified, size: size, paragraphs: Self.paragraphs(of: text, file: name))
        }
        return files.withLock { files in
            for (name, file) in reread { files[name] = file }
            return Summary(
                files: files.count, paragraphs: files.values.map(\.paragraphs.count).reduce(0, +), changedFiles: changed.count)
        }
    }

    /// The paragraph sharing the most (rarity-weighted) words with `question`, if any.
    func bestMatch(for question: String) -> Paragraph? {
        let asked = Self.words(of: question)
        let paragraphs = files.withLock { $0.values.flatMap(\.paragraphs) }
        guard !paragraphs.isEmpty else { return nil }
        var documentFrequency: [String: Int] = [:]
        for paragraph in paragraphs {
            for word in paragraph.words.intersection(asked) { documentFrequency[word, default: 0] += 1 }
        }
        let scored = paragraphs.map { paragraph -> (Paragraph, Double) in
            let score = paragraph.words.intersection(asked).reduce(0.0) { total, word in
                total + log(Double(paragraphs.count + 1) / Double(documentFrequency[word] ?? 1))
            }
            return (paragraph, score)
        }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0 else { return nil }
        return best.0
    }

    private static func paragraphs(of text: String, file: String) -> [Paragraph] {
        text.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { Paragraph(file: file, text: $0, words: words(of: $0)) }
    }

    /// Lowercased words of three letters or more, so that "a", "is" and "to" do not match everything.
    private static func words(of text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count >= 3 })
    }
}
