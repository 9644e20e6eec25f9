// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "BotHost",
    products: [
        .executable(name: "bothost", targets: ["bothost"]),
        .library(name: "BotHostKit", targets: ["BotHostKit"]),
        .library(name: "BotHostCore", targets: ["BotHostCore"]),
        .library(name: "BotHostTesting", targets: ["BotHostTesting"]),
        .library(name: "TelegramBotAPI", targets: ["TelegramBotAPI"]),
        .library(name: "BotAPIEmulator", targets: ["BotAPIEmulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .target(
            name: "TelegramBotAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BotAPIEmulator",
            dependencies: [
                "TelegramBotAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "BotHostKit",
            dependencies: [
                "TelegramBotAPI",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BotHostCore",
            dependencies: [
                "BotHostKit",
                "BotAPIEmulator",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "TelegramBotAPI",
            ]
        ),
        .target(
            name: "BotHostTesting",
            dependencies: ["BotHostKit", "BotAPIEmulator", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // A manual clock and a log capture: for the kit's harness and for the tests of
        // every layer, the wire layer's included.
        .target(name: "TestSupport", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(name: "Echo", dependencies: ["BotHostKit"], path: "Plugins/Echo"),
        .target(name: "AutoPoster", dependencies: ["BotHostKit"], path: "Plugins/AutoPoster"),
        .target(name: "DocsObserver", dependencies: ["BotHostKit"], path: "Plugins/DocsObserver"),
        .target(name: "Chaos", dependencies: ["BotHostKit"], path: "Plugins/Chaos"),
        .executableTarget(
            name: "bothost",
            dependencies: ["BotHostCore", "Echo", "AutoPoster", "DocsObserver", "Chaos"]
        ),
        .target(name: "ChildProcesses"),
        // A headless Chromium over the DevTools protocol: the dashboard's test and benchmark.
        .target(name: "HeadlessBrowser", dependencies: ["ChildProcesses"]),
        // Writes Sources/TelegramBotAPI/Generated from the Bot API description; run by hand:
        // swift run generate-bot-api ../shared/telegram-bot-api/api.json Sources/TelegramBotAPI/Generated
        .target(name: "BotAPIGenerator", path: "Tools/BotAPIGenerator"),
        .executableTarget(name: "generate-bot-api", dependencies: ["BotAPIGenerator"], path: "Tools/generate-bot-api"),
        .executableTarget(
            name: "bothost-bench",
            dependencies: ["BotAPIEmulator", "BotHostCore", "TelegramBotAPI", "ChildProcesses", "HeadlessBrowser"],
            path: "Benchmarks/BothostBench"
        ),
        .testTarget(
            name: "TelegramBotAPITests",
            dependencies: [
                "TelegramBotAPI", "BotAPIEmulator", "TestSupport", "BotAPIGenerator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BotHostKitTests",
            dependencies: ["BotHostKit", "BotHostTesting", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "BotHostCoreTests",
            dependencies: [
                "BotHostCore", "BotHostKit", "BotHostTesting", "BotAPIEmulator", "TelegramBotAPI", "Echo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "PluginTests",
            dependencies: [
                "BotHostTesting", "BotHostKit", "BotAPIEmulator", "TelegramBotAPI", "Echo", "AutoPoster", "DocsObserver",
            ]
        ),
        .testTarget(
            name: "ProcessTests",
            dependencies: [
                "BotAPIEmulator", "TelegramBotAPI", "BotHostCore", "BotHostKit", "ChildProcesses", "HeadlessBrowser",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)

// For every target: Swift 6's upcoming language features (`any` spelled out, members
// visible only from modules a file imports, imports internal unless marked public). Code
// that ships treats warnings as errors, so that none accumulates; test targets cannot yet,
// as Swift Testing's macros warn under Swift 6.3 (`@section`), and `.ci/run` checks their
// own lines instead.
for target in package.targets {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
            .enableUpcomingFeature("InternalImportsByDefault"),
        ] + (target.type == .test ? [] : [.treatAllWarnings(as: .error)])
}
