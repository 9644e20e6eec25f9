import BotAPIGenerator
import Foundation

// generate-bot-api SPEC OUTPUT_DIR: writes the TelegramBotAPI module's generated sources
// from the Bot API description, replacing every `.swift` file in OUTPUT_DIR.
let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, let specPath = arguments.first, let outputPath = arguments.last else {
    FileHandle.standardError.write(Data("usage: generate-bot-api SPEC.json OUTPUT_DIR\n".utf8))
    exit(2)
}
do {
    let spec = try BotAPISpec(contentsOf: URL(fileURLWithPath: specPath))
    let files = BotAPIGenerator.generate(spec)
    let output = URL(fileURLWithPath: outputPath)
    let manager = FileManager.default
    try manager.createDirectory(at: output, withIntermediateDirectories: true)
    for old in try manager.contentsOfDirectory(atPath: output.path) where old.hasSuffix(".swift") {
        try manager.removeItem(at: output.appendingPathComponent(old))
    }
    for (name, text) in files.sorted(by: { $0.key < $1.key }) {
        try Data(text.utf8).write(to: output.appendingPathComponent(name))
    }
    print("wrote \(files.count) files for \(spec.version) to \(outputPath)")
} catch {
    FileHandle.standardError.write(Data("generate-bot-api: \(error)\n".utf8))
    exit(1)
}
