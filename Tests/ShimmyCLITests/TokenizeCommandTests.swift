import Foundation
import ShimmyTestSupport
import Testing

/// Runs the built `shimmy tokenize` and compares its stdout with llama.cpp's ids.
@Suite("shimmy tokenize")
struct TokenizeCommandTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary beside this test bundle, else `TestPaths.shimmyBinary`.
    static var binary: String {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("shimmy").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        return TestPaths.shimmyBinary
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = TestPaths.repositoryRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    static let model = TestPaths.defaultModel

    @Test func promptPrintsIds() throws {
        let r = try Self.run(["tokenize", "-m", Self.model, "--prompt", "Hello, world!"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout == "[19556,28,905,17]\n")
    }

    @Test func specialParsingIsOptIn() throws {
        let text = "<|im_start|>user\nHello!<|im_end|>\n"
        let plain = try Self.run(["tokenize", "--model", Self.model, "--prompt", text])
        let special = try Self.run(["tokenize", "--model", Self.model, "--parse-special", "--prompt", text])
        #expect(special.stdout.hasPrefix("[1,"), "got \(special.stdout)")
        #expect(!plain.stdout.hasPrefix("[1,"), "got \(plain.stdout)")
        #expect(plain.status == 0 && special.status == 0)
    }

    @Test func fileBytesAreNotUnescaped() throws {
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("in.txt").path
        // a literal backslash-n and an invalid UTF-8 byte
        try Data([0x61, 0x5C, 0x6E, 0x62, 0xFF]).write(to: URL(fileURLWithPath: path))
        let r = try Self.run(["tokenize", "--model", Self.model, "--file", path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let withNewline = try Self.run(["tokenize", "--model", Self.model, "--prompt", "a\nb"])
        #expect(r.stdout != withNewline.stdout)
        #expect(r.stdout.hasPrefix("[") && r.stdout.hasSuffix("]\n"))
    }

    @Test func piecesAreObjects() throws {
        let r = try Self.run(["tokenize", "--model", Self.model, "--pieces", "--parse-special", "--prompt", "Hi\n<|im_end|>"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let data = Data(r.stdout.utf8)
        let decoded = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        let pieces = try #require(decoded, "not an array of objects: \(r.stdout)")
        #expect(pieces.map { $0["piece"] as? String } == ["Hi", "\n", "<|im_end|>"], "got \(r.stdout)")
        #expect(pieces.last?["id"] as? Int == 2)
    }

    @Test func needsExactlyOneInput() throws {
        let none = try Self.run(["tokenize", "--model", Self.model])
        #expect(none.status != 0)
        #expect(none.stderr.contains("--prompt"))
        let both = try Self.run(["tokenize", "--model", Self.model, "--prompt", "x", "--file", "/dev/null"])
        #expect(both.status != 0)
    }

    @Test func missingModelFailsWithMessage() throws {
        let r = try Self.run(["tokenize", "--model", "no-such-model-xyz", "--prompt", "x"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("Error: ") && r.stderr.contains("no-such-model-xyz"), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
