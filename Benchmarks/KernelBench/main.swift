// KernelBench: kernel microbenchmarks that print one JSON document on stdout.
//
//   swift run -c release --scratch-path .build-quant KernelBench dequantize [--runs 21] [--elements 73728,884736] [--types q4_0,q8_0]
//
// Each group lives in its own file and registers here with one line; it gets the options after the
// group name and returns its results as a JSON object.
import Foundation

/// The benchmark groups by name.
let groups: [(name: String, summary: String, run: BenchmarkGroup)] = [
    ("dequantize", "dequantization throughput per tensor type (SIMD and reference)", DequantizeBenchmark.run),
    ("matvec", "matmul batch 1 over the SmolLM2 shapes, GB/s of weights", MatMulBenchmark.matvec), ("gemm", "matmul batch 64 (--batch), GFLOP/s", MatMulBenchmark.gemm), ("dot", "one 1536x576 mat-vec per type, repeated", MatMulBenchmark.dot),
    ("attention", "one layer's attention heads, decode and prompt, over cached positions", AttentionBenchmark.run),
]

/// A named benchmark group: reads its options and returns its JSON result object.
typealias BenchmarkGroup = (inout BenchOptions) throws -> [String: Any]

/// Command-line options after the group name: `--name value` pairs.
struct BenchOptions {
    private(set) var values: [String: String] = [:]

    init(_ arguments: [String]) throws {
        var i = 0
        while i < arguments.count {
            let key = arguments[i]
            guard key.hasPrefix("--"), i + 1 < arguments.count else { throw BenchError.usage("unexpected argument '\(key)'") }
            values[String(key.dropFirst(2))] = arguments[i + 1]
            i += 2
        }
    }

    /// The integer option `name`, or `defaultValue`.
    func int(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = values[name] else { return defaultValue }
        guard let value = Int(text), value > 0 else { throw BenchError.usage("--\(name) needs a positive integer, got '\(text)'") }
        return value
    }

    /// The string option `name`, or nil.
    func string(_ name: String) -> String? { values[name] }
}

/// A bad command line.
enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self { case .usage(let message): return message }
    }
}

/// Timing helpers shared by the groups.
enum Bench {
    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Runs `body` `warmup` times untimed, then `runs` times timed; returns each run's nanoseconds.
    static func measure(runs: Int, warmup: Int = 2, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<runs).map { _ in
            let start = now()
            body()
            return Double(now() - start)
        }
    }

    /// The median of `samples` (the mean of the middle two for an even count).
    static func median(_ samples: [Double]) -> Double {
        let s = samples.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// `value` rounded to `digits` decimals, for readable JSON.
    static func round(_ value: Double, _ digits: Int = 3) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}

@MainActor func usage() -> String {
    "usage: KernelBench <group> [--option value ...]\ngroups:\n"
        + groups.map { "  \($0.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n")
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let groupName = arguments.first, let group = groups.first(where: { $0.name == groupName }) else {
    FileHandle.standardError.write(Data((usage() + "\n").utf8))
    exit(2)
}
do {
    var options = try BenchOptions(Array(arguments.dropFirst()))
    var document = try group.run(&options)
    document["group"] = group.name
    document["cpus"] = ProcessInfo.processInfo.activeProcessorCount
    let json = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    FileHandle.standardOutput.write(json)
    FileHandle.standardOutput.write(Data("\n".utf8))
} catch {
    FileHandle.standardError.write(Data("KernelBench \(groupName): \(error)\n".utf8))
    exit(1)
}
