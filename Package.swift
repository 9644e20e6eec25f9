// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "BotHost",
    platforms: [.macOS(.v14)],
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
    ],
    targets: [
        .target(
            name: "TelegramBotAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BotAPIEmulator",
            dependencies: [
                "TelegramBotAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "BotHostKit",
            dependencies: [
                "TelegramBotAPI",
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
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "BotHostTesting",
            dependencies: ["BotHostKit", "BotAPIEmulator", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "Echo", dependencies: ["BotHostKit"], path: "Plugins/Echo"),
        .target(name: "AutoPoster", dependencies: ["BotHostKit"], path: "Plugins/AutoPoster"),
        .target(name: "DocsObserver", dependencies: ["BotHostKit"], path: "Plugins/DocsObserver"),
        .executableTarget(
            name: "bothost",
            dependencies: ["BotHostCore", "Echo", "AutoPoster", "DocsObserver"]
        ),
        .target(name: "ChildProcesses"),
        .executableTarget(
            name: "bothost-bench",
            dependencies: ["BotAPIEmulator", "TelegramBotAPI", "ChildProcesses"],
            path: "Benchmarks/BothostBench"
        ),
        .testTarget(
            name: "TelegramBotAPITests",
            dependencies: [
                "TelegramBotAPI", "BotAPIEmulator", "BotHostTesting",
            ]
        ),
        .testTarget(
            name: "BotHostKitTests",
            dependencies: ["BotHostKit", "BotHostTesting"]
        ),
        .testTarget(
            name: "BotHostCoreTests",
            dependencies: [
                "BotHostCore", "BotHostTesting", "BotAPIEmulator", "Echo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "PluginTests",
            dependencies: ["BotHostTesting", "Echo", "AutoPoster", "DocsObserver"]
        ),
        .testTarget(
            name: "ProcessTests",
            dependencies: [
                "BotAPIEmulator", "TelegramBotAPI", "BotHostCore", "ChildProcesses",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)
