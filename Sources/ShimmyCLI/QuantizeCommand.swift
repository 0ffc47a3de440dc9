import ArgumentParser
import Foundation
import Shimmy

/// `shimmy quantize INPUT OUTPUT TYPE`: convert a GGUF model to another tensor type, like
/// `llama-quantize --allow-requantize --pure`.
///
/// ```
/// shimmy quantize models/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2.q8_0.gguf q8_0
/// ```
struct QuantizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Convert a GGUF model to another tensor type (like llama-quantize --pure).",
        discussion: """
            Every 2-D weight becomes TYPE (dequantized from its source type first); norms and other 1-D \
            tensors are copied unchanged. TYPE is one of \
            \(ModelQuantizer.supportedTypes.map(\.name).joined(separator: ", ")) (any case). OUTPUT is written \
            through a temporary file, so a failure never leaves a partial OUTPUT.
            """)
    @OptionGroup var versionFlag: VersionFlag
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    @Argument(help: "The model to read: a GGUF path or a name from `shimmy list`.")
    var input: String

    @Argument(help: "The GGUF file to write.")
    var output: String

    @Argument(help: "The target tensor type, e.g. q4_0, q8_0, f16.")
    var type: String

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy quantize: \(ContinuousClock.now - started)") } }
        let target = try ModelQuantizer.parseType(type)
        let showProgress = isatty(2) == 1
        removeTemporaryFileOnInterrupt(output: output)
        let began = Date()
        let source = try ModelRegistry.standard.resolve(input)
        try ModelQuantizer.quantize(input: source.path, output: output, type: target) { done, total, name in
            guard showProgress else { return }
            let width = String(total).count
            let count = String(done).leftPadded(to: width)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(count)/\(total)] \(name)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        let seconds = Date().timeIntervalSince(began)
        print("wrote \(output): \(target.name), \(String(format: "%.1f", Double(size) / 1_048_576)) MiB in \(String(format: "%.1f", seconds)) s")
    }
}

/// On Ctrl-C or SIGTERM, removes the temporary file `GGUFWriter.write(to:)` is filling (named
/// `<output>.partial-<pid>...` beside OUTPUT) and exits with 128 + the signal number, so an interrupted run
/// leaves nothing behind. The cleanup runs on a dispatch queue, not inside a signal handler.
private func removeTemporaryFileOnInterrupt(output: String) {
    let url = URL(fileURLWithPath: output)
    let directory = url.deletingLastPathComponent().path
    let prefix = "\(url.lastPathComponent).partial-\(getpid())"
    onSignals([SIGINT, SIGTERM]) { number in
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(prefix) {
            unlink(directory + "/" + name)
        }
        exit(128 + number)
    }
}

extension String {
    /// The string with spaces in front to make it at least `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
