// swift-tools-version:6.0
import PackageDescription

// Kernels need a CPU target: baseline x86-64 turns FMA and Float16 conversion into library calls.
// The root package builds for the host CPU. A program that depends on shimmy by version cannot use
// unsafe flags, so it sets SHIMMY_TARGET_CPU=none and passes the flag itself:
//   SHIMMY_TARGET_CPU=none swift build -c release -Xswiftc -target-cpu -Xswiftc native
let targetCPU = Context.environment["SHIMMY_TARGET_CPU"] ?? "native"
let cpuFlags: [SwiftSetting] = targetCPU == "none" ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]
let fast: [SwiftSetting] = cpuFlags + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "shimmy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Shimmy", targets: ["Shimmy"]),
        .executable(name: "shimmy", targets: ["ShimmyCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CNUMA", path: "Sources/CNUMA", providers: [.apt(["libnuma-dev"])]),
        .target(name: "GGUF", swiftSettings: cpuFlags),
        .target(name: "Tensors", dependencies: ["GGUF", "CNUMA"], swiftSettings: fast),
        .target(name: "Shimmy", dependencies: ["GGUF", "Tensors", .product(name: "Logging", package: "swift-log")],
                swiftSettings: cpuFlags),
        .target(name: "ShimmyServer", dependencies: ["Shimmy", .product(name: "Logging", package: "swift-log")],
                swiftSettings: cpuFlags),
        .executableTarget(name: "ShimmyCLI", dependencies: [
            "Shimmy", "ShimmyServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: cpuFlags),
        .executableTarget(name: "KernelBench", dependencies: ["GGUF", "Tensors"], path: "Benchmarks/KernelBench",
                          swiftSettings: fast),
        .target(name: "ShimmyTestSupport", dependencies: ["GGUF", "Shimmy"], path: "Tests/ShimmyTestSupport",
                swiftSettings: cpuFlags),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "ShimmyTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "ShimmyTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "ShimmyTests", dependencies: ["Shimmy", "ShimmyTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "ShimmyServerTests", dependencies: ["ShimmyServer", "ShimmyTestSupport"],
                    swiftSettings: cpuFlags),
        .testTarget(name: "ShimmyCLITests", dependencies: ["ShimmyTestSupport"], swiftSettings: cpuFlags),
    ]
)
