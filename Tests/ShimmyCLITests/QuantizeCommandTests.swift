import Foundation
import ShimmyTestSupport
import Testing

/// Runs the built `shimmy` binary with `arguments` (`input` on its standard input, `environment` added to this
/// process's); returns exit status, stdout and stderr.
func runShimmy(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite("shimmy quantize", .serialized)
struct QuantizeCommandTests {
    @Test("bad input fails with one line on stderr, a non-zero status and no OUTPUT", arguments: [
        ("bad type", "good", "out", "q5_k", "Q4_0, Q4_1, Q8_0, F16"),
        ("missing input", "missing", "out", "q8_0", "No model file at"),
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

    @Test("a good run writes OUTPUT, reports it on stdout and no progress when stderr is not a terminal; INPUT: path or name",
          arguments: [TestPaths.defaultModel, "SmolLM2-135M-Instruct.Q4_1"])
    func success(input: String) throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.gguf").path
        let result = try runShimmy(["quantize", input, output, "Q8_0"])
        #expect(result.status == 0, "status \(result.status), stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("Q8_0"), "stdout: \(result.stdout)")
        let size = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int
        #expect(size == 144_811_072, "output size \(String(describing: size))")
    }
}

@Suite("shimmy quantize on a terminal", .serialized)
struct QuantizeTerminalTests {
    @Test("progress goes to stderr when it is a terminal, ending at [N/N]")
    func progressOnTerminal() throws {
        var primary: Int32 = -1, replica: Int32 = -1
        #expect(openpty(&primary, &replica, nil, nil, nil) == 0, "openpty failed: errno \(errno)")
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.gguf").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
        process.arguments = ["quantize", TestPaths.defaultModel, output, "q4_0"]
        process.standardError = FileHandle(fileDescriptor: replica, closeOnDealloc: false)
        process.standardOutput = Pipe()
        // read the terminal while the child writes, so a full pty buffer cannot block it
        let reader = TerminalReader(fd: primary)
        let thread = Thread { reader.readAll() }
        thread.start()
        try process.run()
        process.waitUntilExit()
        close(replica)
        reader.finished.wait()
        close(primary)
        let text = reader.text
        #expect(process.terminationStatus == 0, "status \(process.terminationStatus): \(text.suffix(300))")
        #expect(text.contains("[272/272] "), "no final progress line in: \(text.suffix(300))")
        #expect(text.contains("blk.29.ffn_up.weight"), "progress does not name tensors: \(text.suffix(300))")
    }

    @Test("an interrupted run removes its temporary file and leaves no OUTPUT")
    func interrupt() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.gguf").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.shimmyBinary)
        process.arguments = ["quantize", TestPaths.defaultModel, output, "f32"]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        // wait until the writer has created its temporary file (<output>.partial-<pid>...)
        let prefix = "out.gguf.partial-\(process.processIdentifier)"
        func writing() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).contains { $0.hasPrefix(prefix) }
        }
        let deadline = Date().addingTimeInterval(60)
        while !writing() && process.isRunning && Date() < deadline { usleep(2_000) }
        #expect(process.isRunning, "finished before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGINT, "status \(process.terminationStatus)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left.isEmpty, "files left behind: \(left)")
    }
}

/// Reads a file descriptor to its end (EOF or EIO once the terminal's other side is closed).
final class TerminalReader: @unchecked Sendable {
    let fd: Int32
    let finished = DispatchSemaphore(value: 0)
    private(set) var text = ""

    init(fd: Int32) { self.fd = fd }

    func readAll() {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        text = String(decoding: bytes, as: UTF8.self)
        finished.signal()
    }
}
