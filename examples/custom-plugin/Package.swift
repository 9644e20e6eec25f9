// swift-tools-version:6.0
import PackageDescription

// A plugin author's own package: one plugin, an executable that hosts it with the full
// `bothost` CLI, and a test that runs the plugin against the emulator.
let package = Package(
    name: "MyBots",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "BotHost", path: "../..")
    ],
    targets: [
        .target(name: "Greeter", dependencies: [.product(name: "BotHostKit", package: "BotHost")]),
        .executableTarget(
            name: "my-bots",
            dependencies: ["Greeter", .product(name: "BotHostCore", package: "BotHost")]
        ),
        .testTarget(
            name: "GreeterTests",
            dependencies: ["Greeter", .product(name: "BotHostTesting", package: "BotHost")]
        ),
    ]
)
