import Foundation
import GGUF
import ShimmyTestSupport
import Testing

/// Runs the built `shimmy probe` on hand-broken GGUF files, one per malformed class: it must exit non-zero
/// with one line on stderr naming the problem (the parser's own description of it).
@Suite("shimmy probe: broken GGUF files")
struct ProbeCommandTests {
    /// One malformed class: a name and a function that corrupts a valid file.
    struct Breakage: CustomStringConvertible, Sendable {
        let description: String
        let make: @Sendable () throws -> [UInt8]
    }

    static func tensor(_ layout: GGUFLayout, _ name: String) throws -> GGUFLayout.Tensor {
        try #require(layout.tensors[name], "no tensor '\(name)' in layout")
    }

    static func key(_ layout: GGUFLayout, _ name: String) throws -> GGUFLayout.KeyValue {
        try #require(layout.keyValues[name], "no key '\(name)' in layout")
    }

    static let breakages: [Breakage] = [
        Breakage(description: "bad magic") {
            var b = try makeGGUF()
            b.patch(bytes: Array("GGML".utf8), at: 0)
            return b
        },
        Breakage(description: "unsupported version") {
            var b = try makeGGUF()
            b.patch(UInt32(9), at: 4)
            return b
        },
        Breakage(description: "truncated header") { Array(try makeGGUF().prefix(12)) },
        Breakage(description: "truncated tensor data") {
            let b = try makeGGUF()
            return Array(b.prefix(b.count - 40))
        },
        Breakage(description: "string length past the end") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64.max, at: try key(layout, "general.name").valueOffset)
            return b
        },
        Breakage(description: "array count past the end") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64(1) << 40, at: try key(layout, "test.tokens").valueOffset + 4)
            return b
        },
        Breakage(description: "unknown value type") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt32(77), at: try key(layout, "test.u32").typeOffset)
            return b
        },
        Breakage(description: "unknown tensor type") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt32(999), at: try tensor(layout, "a").typeOffset)
            return b
        },
        Breakage(description: "zero dimension") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(Int64(0), at: try tensor(layout, "a").dimensionsOffset)
            return b
        },
        Breakage(description: "negative dimension") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(Int64(-3), at: try tensor(layout, "a").dimensionsOffset)
            return b
        },
        Breakage(description: "too many dimensions") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt32(9), at: try tensor(layout, "a").dimensionCountOffset)
            return b
        },
        Breakage(description: "data offset outside the file") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64(1) << 30, at: try tensor(layout, "b").offsetFieldOffset)
            return b
        },
        Breakage(description: "misaligned data offset") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64(3), at: try tensor(layout, "b").offsetFieldOffset)
            return b
        },
        Breakage(description: "tensor count beyond the file") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64(1) << 40, at: layout.tensorCountOffset)
            return b
        },
        Breakage(description: "key count beyond the file") {
            var (b, layout) = try makeGGUFWithLayout()
            b.patch(UInt64(1) << 40, at: layout.keyCountOffset)
            return b
        },
    ]

    @Test("probe exits non-zero and names the problem", arguments: breakages)
    func brokenFile(_ breakage: Breakage) throws {
        let bytes = try breakage.make()
        // The parser's own description is what the CLI must print.
        var expected = ""
        do {
            _ = try parseGGUF(bytes)
            Issue.record("\(breakage): the corrupted file parsed; the test does not break it")
            return
        } catch {
            expected = error.description
        }
        let path = try writeTemporaryGGUF(bytes, name: "broken.gguf")
        let r = try TokenizeCommandTests.run(["probe", path])
        #expect(r.status != 0, "\(breakage): exit status 0; stdout: \(r.stdout)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(breakage): stderr is not one line: \(r.stderr)")
        #expect(r.stderr.contains(expected), "\(breakage): stderr \(r.stderr) does not contain '\(expected)'")
        #expect(r.stdout.isEmpty, "\(breakage): unexpected stdout: \(r.stdout)")
    }

    @Test("a valid GGUF that is not a model: probe names the missing key")
    func notAModel() throws {
        let path = try writeTemporaryGGUF(try makeGGUF(), name: "notamodel.gguf")
        let r = try TokenizeCommandTests.run(["probe", path])
        #expect(r.status != 0, "exit status 0; stdout: \(r.stdout)")
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr is not one line: \(r.stderr)")
        #expect(r.stderr.contains("missing the key"), "stderr does not name the missing key: \(r.stderr)")
    }

    @Test("a file that does not exist: probe says so")
    func missingFile() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("absent.gguf").path
        let r = try TokenizeCommandTests.run(["probe", path])
        #expect(r.status != 0, "exit status 0; stdout: \(r.stdout)")
        #expect(r.stderr.contains("absent.gguf"), "stderr does not name the file: \(r.stderr)")
    }
}
