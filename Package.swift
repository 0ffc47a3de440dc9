// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels need a CPU target: baseline x86-64 turns FMA and Float16 conversion into library calls.
// The root package builds for the host CPU. A program that depends on shimmy by version cannot use
// unsafe flags, so it sets SHIMMY_TARGET_CPU=none, which leaves every unsafe flag out, and passes the CPU itself:
//   SHIMMY_TARGET_CPU=none swift build -c release -Xswiftc -target-cpu -Xswiftc native
// Without unsafe flags X86Intrinsics cannot reach LLVM's intrinsics (`-parse-stdlib`), so such a build runs the
// portable kernels, without VNNI, GFNI or prefetching, and without `-Ounchecked`.
let targetCPU = Context.environment["SHIMMY_TARGET_CPU"] ?? "native"
let unsafeAllowed = targetCPU != "none"
let cpuFlags: [SwiftSetting] = unsafeAllowed ? [.unsafeFlags(["-target-cpu", targetCPU])] : []
// The int8 kernels use AVX-512 VNNI (`vpdpbusd`) when the build targets this machine and it has it, or when
// SHIMMY_VNNI=1 says the target CPU has it; otherwise (SHIMMY_VNNI=0, other CPUs) the portable kernels only.
let hostCPU = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
let vnni = unsafeAllowed
    && (Context.environment["SHIMMY_VNNI"].map { $0 == "1" } ?? (targetCPU == "native" && hostCPU.contains(" avx512_vnni")))
// GFNI (`vgf2p8affineqb`: one instruction splits a Q4_1 block's nibbles in the VNNI tiles) likewise, only with VNNI:
// host CPU, or SHIMMY_GFNI=1/0.
let gfni = Context.environment["SHIMMY_GFNI"].map { $0 == "1" } ?? (targetCPU == "native" && hostCPU.contains(" gfni"))
let vnniFlags: [SwiftSetting] = (vnni ? [.define("SHIMMY_AVX512VNNI")] : []) + (vnni && gfni ? [.define("SHIMMY_GFNI")] : [])
let fast: [SwiftSetting] = cpuFlags + vnniFlags
    + (unsafeAllowed ? [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))] : [])
// `-parse-stdlib` exposes the `Builtin` module to X86Intrinsics (SHIMMY_BUILTINS says it is there).
let builtinFlags: [SwiftSetting] = unsafeAllowed ? [.define("SHIMMY_BUILTINS"), .unsafeFlags(["-parse-stdlib"])] : []

let package = Package(
    name: "shimmy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Shimmy", targets: ["Shimmy"]),
        // The GGUF reader and writer, whose types appear in Shimmy's API (`LlamaModel.file`, `GGMLType`).
        .library(name: "GGUF", targets: ["GGUF"]),
        .executable(name: "shimmy", targets: ["ShimmyCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CNUMA", path: "Sources/CNUMA", providers: [.apt(["libnuma-dev"])]),
        .target(name: "GGUF", swiftSettings: cpuFlags),
        // x86 instructions LLVM does not select from portable SIMD code, as inlinable wrappers of LLVM's intrinsics
        // (Swift source; `-parse-stdlib` gives access to the `Builtin` module they need).
        .target(name: "X86Intrinsics", swiftSettings: cpuFlags + vnniFlags + builtinFlags),
        .target(name: "Tensors", dependencies: ["GGUF", "CNUMA", "X86Intrinsics"], swiftSettings: fast),
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
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "ShimmyTestSupport"], swiftSettings: cpuFlags + vnniFlags),
        .testTarget(name: "ShimmyTests", dependencies: ["Shimmy", "ShimmyTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "ShimmyServerTests", dependencies: ["ShimmyServer", "ShimmyTestSupport",
                                                             .product(name: "Logging", package: "swift-log")],
                    swiftSettings: cpuFlags),
        .testTarget(name: "ShimmyCLITests", dependencies: ["ShimmyTestSupport"], swiftSettings: cpuFlags),
    ]
)
