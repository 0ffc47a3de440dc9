import Foundation
import ShimmyTestSupport
import Testing

/// Runs the built `shimmy` binary with `arguments`; returns exit status, stdout and stderr.
func runShimmy(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite("shimmy quantize", .serialized)
struct QuantizeCommandTests {
    @Test("bad input fails with one line on stderr, a non-zero status and no OUTPUT", arguments: [
        ("bad type", "good", "out", "q5_k", "Q4_0, Q4_1, Q8_0, F16"),
        ("missing input", "missing", "out", "q8_0", "not found"),
        ("not a GGUF file", "text", "out", "q8_0", "GGUF"),
        ("missing output directory", "good", "no/such/dir/out", "q8_0", "directory"),
        ("unwritable output", "good", "/proc/shimmy-cli-quantize.gguf", "q8_0", "cannot write"),
    ])
    func failures(label: String, input: String, output: String, type: String, mention: String) throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.gguf")
        try Data("plain text".utf8).write(to: text)
        let inputPath = switch input {
        case "good": TestPaths.defaultModel
        case "text": text.path
        default: directory.appendingPathComponent("missing.gguf").path
        }
        let outputPath = output.hasPrefix("/") ? output : directory.appendingPathComponent(output).path
        let result = try runShimmy(["quantize", inputPath, outputPath, type])
        #expect(result.status != 0, "\(label): exit status 0")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(label): stderr has \(lines.count) lines: \(result.stderr)")
        #expect(result.stderr.contains(mention), "\(label): stderr does not mention '\(mention)': \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outputPath), "\(label): \(outputPath) was left behind")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "text.gguf" }
        #expect(left.isEmpty, "\(label): files left behind: \(left)")
    }

    @Test("a good run writes OUTPUT, reports it on stdout and prints no progress when stderr is not a terminal")
    func success() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.gguf").path
        let result = try runShimmy(["quantize", TestPaths.defaultModel, output, "Q8_0"])
        #expect(result.status == 0, "status \(result.status), stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("Q8_0"), "stdout: \(result.stdout)")
        let size = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int
        #expect(size == 144_811_072, "output size \(String(describing: size))")
    }
}
