import Foundation
import ShimmyTestSupport
import Testing

/// `shimmy embed` on the default model: a JSON array, unit length unless --raw, --dimensions, the context limit.
@Suite("shimmy embed", .serialized)
struct EmbedCommandTests {
    static func vector(_ stdout: String) throws -> [Double] {
        let data = Data(stdout.utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [Double], "\(stdout.prefix(200))")
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    @Test func unitLengthRawAndDimensions() throws {
        let model = TestPaths.defaultModel
        let unit = try runShimmy(["embed", "-m", model, "--prompt", "The sky is blue."])
        #expect(unit.status == 0, "\(unit.stderr)")
        let v = try Self.vector(unit.stdout)
        #expect(v.count == 576 && abs(Self.norm(v) - 1) < 1e-5)
        let raw = try Self.vector(try runShimmy(["embed", "-m", model, "--raw", "--prompt", "The sky is blue."]).stdout)
        let n = Self.norm(raw)
        #expect(n > 1.5)
        #expect(zip(raw, v).allSatisfy { abs($0 / n - $1) < 1e-6 })
        let short = try Self.vector(try runShimmy(["embed", "-m", model, "--dimensions", "8", "--prompt", "The sky is blue."]).stdout)
        let m = Self.norm(Array(raw.prefix(8)))
        #expect(short.count == 8 && zip(raw.prefix(8), short).allSatisfy { abs($0 / m - $1) < 1e-6 })
    }

    @Test func longerThanTheContext() throws {
        let model = TestPaths.defaultModel
        let text = String(repeating: "one two three ", count: 20)
        let refused = try runShimmy(["embed", "-m", model, "--ctx", "16", "--prompt", text])
        #expect(refused.status != 0 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("maximum context length of 16 tokens"), "\(refused.stderr)")
        let cut = try runShimmy(["embed", "-m", model, "--ctx", "16", "--truncate", "-v", "--prompt", text])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(try Self.vector(cut.stdout).count == 576)
        #expect(cut.stderr.contains("16 tokens (cut to the context)"), "\(cut.stderr)")
        let bad = try runShimmy(["embed", "-m", model, "--dimensions", "0", "--prompt", "x"])
        #expect(bad.status != 0 && bad.stderr.contains("--dimensions"), "\(bad.stderr)")
    }
}
