import GGUF
import ShimmyTestSupport
import Testing

/// Corrupted files never crash the reader: each either parses into a consistent file or throws a
/// `GGUFError`. A small, deterministic stand-in for the libFuzzer target.
@Suite("GGUF reader on corrupted bytes")
struct GGUFMutationTests {
    /// xorshift64*, deterministic across runs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
    }

    /// The invariants a parsed file must hold; returns what is wrong, if anything.
    static func violations(_ file: GGUFFile) -> [String] {
        var out: [String] = []
        if file.metadataKeys.count != file.metadata.count { out.append("keys and metadata differ in count") }
        if file.alignment <= 0 || file.alignment & (file.alignment - 1) != 0 { out.append("alignment \(file.alignment)") }
        if file.dataOffset > file.fileSize { out.append("data offset \(file.dataOffset) past \(file.fileSize)") }
        var ranges: [(Int, Int)] = []
        for t in file.tensors {
            let data = file.tensorData(t)
            if data.count != t.byteCount || t.byteCount == 0 { out.append("\(t.name): \(data.count) of \(t.byteCount) bytes") }
            if t.offset % file.alignment != 0 { out.append("\(t.name) misaligned") }
            ranges.append((file.dataOffset + t.offset, file.dataOffset + t.offset + t.byteCount))
        }
        ranges.sort { $0.0 < $1.0 }
        for k in ranges.indices.dropFirst() where ranges[k - 1].1 > ranges[k].0 { out.append("overlap at \(ranges[k].0)") }
        return out
    }

    /// The enum case of an error (`truncated`, `duplicateKey`, ...).
    static func kind(_ error: GGUFError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    static func check(_ bytes: [UInt8], kinds: inout [String: Int], problems: inout [String]) {
        do {
            let file = try parseGGUF(bytes)
            kinds["parsed", default: 0] += 1
            let v = violations(file)
            if !v.isEmpty { problems.append(v.joined(separator: "; ")) }
        } catch {
            kinds[kind(error), default: 0] += 1
        }
    }

    @Test("every truncation of the sample file fails with a truncation-class error")
    func everyPrefix() throws {
        let (bytes, layout) = try sampleFile()
        let lastByte = try tensorLayout(layout, "b").dataOffset + 72
        let allowed: Set<String> = ["truncated", "stringTooLong", "arrayTooLong", "tooManyKeys", "tooManyTensors",
                                    "dataOutsideFile"]
        var wrong: [String] = []
        for cut in 0..<bytes.count {
            do {
                _ = try parseGGUF(Array(bytes.prefix(cut)))
                if cut < lastByte { wrong.append("\(cut): parsed") }
            } catch {
                if !allowed.contains(Self.kind(error)) { wrong.append("\(cut): \(error)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) prefixes wrong, first: \(wrong.prefix(3))")
    }

    @Test("every single-byte corruption of the sample file")
    func singleBytes() throws {
        let bytes = try makeGGUF()
        var kinds: [String: Int] = [:], problems: [String] = []
        for offset in bytes.indices {
            for value in [0x00, 0xFF, 0x80, 0x7F, Int(bytes[offset] ^ 0x01)] where UInt8(value) != bytes[offset] {
                var b = bytes
                b[offset] = UInt8(value)
                Self.check(b, kinds: &kinds, problems: &problems)
            }
        }
        #expect(problems.isEmpty, "\(problems.count) parsed files broke invariants: \(problems.prefix(3))")
        print("single-byte corruptions:", kinds.sorted { $0.key < $1.key })
        #expect(kinds.count >= 12, "only \(kinds.count) outcomes reached: \(kinds)")
    }

    @Test("random field overwrites, truncations, splices", arguments: UInt64(1)...6)
    func randomMutations(seed: UInt64) throws {
        let (bytes, layout) = try makeGGUFWithLayout(alignment: seed % 2 == 0 ? 32 : 64)
        var rng = Generator(state: seed &* 0x9E37_79B9_7F4A_7C15)
        let interesting: [UInt64] = [0, 1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 255, 0x8000_0000, 0xFFFF_FFFF,
                                     UInt64(bytes.count), UInt64(bytes.count) + 1, UInt64(Int.max), UInt64.max,
                                     UInt64(GGUFLimits.maxStringLength) + 1, UInt64(GGUFLimits.maxArrayCount) + 1]
        var kinds: [String: Int] = [:], problems: [String] = []
        for _ in 0..<1500 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                guard !b.isEmpty else { break }
                let at = Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
                case 1 where at + 8 <= b.count: b.patch(interesting.randomElement(using: &rng) ?? 0, at: at)
                case 2 where at + 4 <= b.count: b.patch(UInt32(truncatingIfNeeded: interesting.randomElement(using: &rng) ?? 0), at: at)
                case 3: b.removeSubrange(at...)
                case 4: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...16, using: &rng)))
                default:
                    let from = Int.random(in: 0..<b.count, using: &rng)
                    b.insert(contentsOf: b[from..<min(b.count, from + 12)], at: at)
                }
            }
            Self.check(b, kinds: &kinds, problems: &problems)
        }
        // Field-aimed: every tensor field and key type gets every interesting value.
        for t in layout.tensors.values {
            for field in [t.offsetFieldOffset, t.dimensionsOffset, t.dimensionsOffset + 8] {
                for v in interesting {
                    var b = bytes
                    b.patch(v, at: field)
                    Self.check(b, kinds: &kinds, problems: &problems)
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) parsed files broke invariants: \(problems.prefix(3))")
        #expect(kinds.count >= 8, "only \(kinds.count) outcomes reached: \(kinds)")
    }
}
