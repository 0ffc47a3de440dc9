import ArgumentParser
import Foundation
import Shimmy

/// `shimmy bench`: prompt-processing and generation speed, llama-bench style.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure prompt processing and generation speed (llama-bench style).",
        discussion: """
            ppN evaluates one N-token batch of random tokens from an empty cache; tgN decodes N tokens one at a \
            time after one token. With -d D, both start after D cached tokens instead (untimed, as llama-bench's \
            "@ dD" tests). Each test runs once to warm up, then -r times. Example: shimmy bench -t 1,2
            """)
    @OptionGroup var versionFlag: VersionFlag

    @Option(name: .shortAndLong, help: "A model name or a path to a GGUF file; default: the default model.")
    var model: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Prompt tokens (0 skips the test).") var p: Int = 512
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Generated tokens (0 skips the test).") var n: Int = 128
    @Option(name: .shortAndLong, parsing: .unconditional,
            help: "Thread counts, comma-separated (default: \(defaultThreadsHelp)).")
    var t: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Repetitions.") var r: Int = 3
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Tokens already in the cache when each test starts.")
    var d: Int = 0
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    /// Most tokens `-p`, `-n` and `-d` take each (their sum sizes the context).
    static let maxTokens = 1_000_000

    /// `-t 1,2` as thread counts; nil when any entry is not a positive integer.
    static func threadCounts(_ text: String) -> [Int]? {
        let counts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return counts.compactMap { $0 }
    }

    /// The thread counts to measure: `-t`, else the default (`ModelOptions.defaultThreads`).
    var threadCountsToRun: [Int] { t.map { Self.threadCounts($0) ?? [] } ?? [ModelOptions.defaultThreads] }

    func validate() throws {
        if let t, Self.threadCounts(t) == nil {
            throw ValidationError("-t takes positive thread counts separated by commas, e.g. 1,2")
        }
        let range = 0...Self.maxTokens
        guard range.contains(p), range.contains(n), range.contains(d), r > 0 else {
            throw ValidationError("-p, -n and -d must be between 0 and \(Self.maxTokens), -r must be positive")
        }
        guard p > 0 || n > 0 else { throw ValidationError("-p 0 and -n 0 leave nothing to measure") }
    }

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy bench: \(ContinuousClock.now - started)") } }
        let threadCounts = threadCountsToRun
        let descriptor = try ModelRegistry.standard.resolve(model)
        let llama = try LlamaModel.load(path: descriptor.path, name: descriptor.name,
                                        options: ModelOptions(contextLength: d + p + n + 1))
        warnAboveTrainedContext(llama)
        let vocabulary = llama.config.vocabularySize
        var generator = SystemRandomNumberGenerator()
        func randomTokens(_ count: Int) -> [TokenID] {
            (0..<count).map { _ in TokenID(Int.random(in: 0..<vocabulary, using: &generator)) }
        }
        let suffix = d > 0 ? " @ d\(d)" : ""
        // the test column as wide as its longest name ("tg128 @ d4096")
        let testWidth = max(4, ("pp\(p)" + suffix).count, ("tg\(n)" + suffix).count)
        var results: [[String: Any]] = []
        var rows: [String] = []
        for threads in threadCounts {
            let context = try llama.makeContext(capacity: d + p + n + 1, threads: threads)
            // each test starts from `d` cached tokens of a random prompt (evaluated untimed); `cached` is what the
            // cache held after the last prefill (--json reports it as "depth")
            let depth = randomTokens(d)
            var cached = 0
            func prefill() throws {
                try context.truncate(to: 0)
                if d > 0 { _ = try context.evaluate(depth, logits: .none) }
                cached = context.tokens.count
            }
            var tests: [(String, () throws -> Double)] = []
            if p > 0 {
                tests.append(("pp\(p)" + suffix, {
                    try prefill()
                    let tokens = randomTokens(p)
                    let start = DispatchTime.now()
                    _ = try context.evaluate(tokens, logits: .last)
                    return seconds(since: start)
                }))
            }
            if n > 0 {
                tests.append(("tg\(n)" + suffix, {
                    try prefill()
                    _ = try context.evaluate(randomTokens(1), logits: .last)
                    let tokens = randomTokens(n)
                    let start = DispatchTime.now()
                    for token in tokens { _ = try context.evaluate([token], logits: .last) }
                    return seconds(since: start)
                }))
            }
            for (name, body) in tests {
                let count = name.hasPrefix("pp") ? p : n
                _ = try body()  // warm-up
                var samples: [Double] = []
                for _ in 0..<r { samples.append(Double(count) / (try body())) }
                let (mean, sd) = meanAndDeviation(samples)
                results.append(["model": descriptor.name, "threads": threads, "test": name, "samples": samples,
                                "mean": mean, "stddev": sd, "depth": cached])
                rows.append("| \(descriptor.name.padding(toLength: 32, withPad: " ", startingAt: 0)) | \(String(format: "%7.2f MiB", Double(llama.file.fileSize) / 1048576)) | \(String(format: "%7.2f M", Double(llama.details.parameterCount) / 1e6)) | CPU     | \(String(format: "%7d", threads)) | \(name.padding(toLength: testWidth, withPad: " ", startingAt: 0)) | \(String(format: "%10.2f ± %6.2f", mean, sd)) |")
            }
        }
        if json {
            writeOut(jsonText(["model": descriptor.path, "results": results], pretty: true) + "\n")
        } else {
            let test = "test".padding(toLength: testWidth, withPad: " ", startingAt: 0)
            let rule = String(repeating: "-", count: testWidth)
            writeOut("| model                            |        size |    params | backend | threads | \(test) |                 t/s |\n")
            writeOut("| -------------------------------- | ----------: | --------: | ------- | ------: | \(rule) | ------------------: |\n")
            writeOut(rows.joined(separator: "\n") + "\n")
        }
    }
}

private func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

private func meanAndDeviation(_ xs: [Double]) -> (Double, Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    guard xs.count > 1 else { return (mean, 0) }
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance.squareRoot())
}
