import Foundation

@testable import BotHostCore

/// The manifest fixtures under `Tests/BotHostCoreTests/Fixtures/manifests`, found from this
/// file's path rather than as SwiftPM resources, and the environment they are loaded with.
enum ManifestFixtures {
    /// Part of every token secret in the fixtures and the environment: no message may contain it.
    static let canary = "leakCANARY"

    static let plugins: Set<String> = ["echo", "autoposter", "docs-observer"]

    static let environment: [String: String] = [
        "SUPPORT_BOT_TOKEN": "1001:AAHleakCANARYleakCANARYleakCANARY1001",
        "SALES_BOT_TOKEN": "2002:AAHleakCANARYleakCANARYleakCANARY2002",
        "NEWS_BOT_TOKEN": "3003:AAHleakCANARYleakCANARYleakCANARY3003",
        "DOCS_BOT_TOKEN": "4004:AAHleakCANARYleakCANARYleakCANARY4004",
        "DUPLICATE_BOT_TOKEN": "1001:AAHleakCANARYotherleakCANARYother99",
        "EMPTY_TOKEN": "",
        "BAD_TOKEN": "AAHleakCANARYleakCANARYleakCANARYnocolon",
        "XDG_RUNTIME_DIR": "/run/user/1000",
    ]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/manifests")

    static let brokenDirectory = directory.appendingPathComponent("broken")
    static let goodDirectory = directory.appendingPathComponent("good")
    static let tokensDirectory = directory.appendingPathComponent("tokens")

    /// The repository's `examples/` folder.
    static let examplesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("examples")

    /// The names of the `.yaml` files in `directory`, sorted.
    static func manifests(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func load(_ path: String, environment: [String: String] = environment) throws(ManifestError) -> Manifest {
        try Manifest.load(path: path, environment: environment, plugins: plugins)
    }

    /// The `bothost validate` lines for a manifest that must not load.
    static func problemLines(_ path: String, environment: [String: String] = environment) -> [String] {
        do {
            let manifest = try load(path, environment: environment)
            return ["unexpectedly valid, with \(manifest.bots.count) bots"]
        } catch {
            return error.problems.map(\.description)
        }
    }
}
