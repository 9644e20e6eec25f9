// swift-tools-version:6.0
import PackageDescription

// A plugin author's own package: two plugins, an executable that hosts them with the full
// `bothost` CLI, and tests that run each plugin against the emulator.
let package = Package(
    name: "MyBots",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "BotHost", path: "../..")
    ],
    targets: [
        .target(name: "Greeter", dependencies: [.product(name: "BotHostKit", package: "BotHost")]),
        .target(name: "Counter", dependencies: [.product(name: "BotHostKit", package: "BotHost")]),
        .executableTarget(
            name: "my-bots",
            dependencies: ["Greeter", "Counter", .product(name: "BotHostCore", package: "BotHost")]
        ),
        .testTarget(
            name: "GreeterTests",
            dependencies: ["Greeter", .product(name: "BotHostTesting", package: "BotHost")]
        ),
        .testTarget(
            name: "CounterTests",
            dependencies: ["Counter", .product(name: "BotHostTesting", package: "BotHost")]
        ),
    ]
)
