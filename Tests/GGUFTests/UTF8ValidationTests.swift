@testable import GGUF
import Testing

/// The hand-written UTF-8 check must agree with the standard library's on every input.
@Suite("GGUF UTF-8 validation")
struct UTF8ValidationTests {
    static func stdlib(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }
    static func ours(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { isValidUTF8($0) } }

    @Test("known edge cases", arguments: [
        [], [0x41], Array("héllo ▁world 😀 日本".utf8), [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF],
        [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],
        [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
        [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xE2, 0x82],
        Array("abcdefghijklmnop".utf8) + [0xC3], [0xC3, 0x41], [0xF0, 0x9F, 0x98, 0x41],
    ] as [[UInt8]])
    func edgeCases(bytes: [UInt8]) {
        #expect(Self.ours(bytes) == Self.stdlib(bytes), "\(bytes): ours \(Self.ours(bytes)), stdlib \(Self.stdlib(bytes))")
    }

    @Test("every two-byte sequence, and each after seven ASCII bytes")
    func allPairs() {
        var differ: [[UInt8]] = []
        for a in 0...255 {
            for b in 0...255 {
                let pair = [UInt8(a), UInt8(b)]
                if Self.ours(pair) != Self.stdlib(pair) { differ.append(pair) }
                let padded = Array("1234567".utf8) + pair
                if Self.ours(padded) != Self.stdlib(padded) { differ.append(padded) }
            }
        }
        #expect(differ.isEmpty, "\(differ.count) differ, first \(differ.prefix(5))")
    }

    @Test("three- and four-byte sequences over the interesting lead and continuation bytes")
    func longerSequences() {
        let leads: [UInt8] = [0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xC2, 0x41]
        let seconds: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
        var differ: [[UInt8]] = []
        for l in leads {
            for s in seconds {
                for t in seconds {
                    let three = [l, s, t]
                    if Self.ours(three) != Self.stdlib(three) { differ.append(three) }
                    for f in seconds {
                        let four = [l, s, t, f]
                        if Self.ours(four) != Self.stdlib(four) { differ.append(four) }
                    }
                }
            }
        }
        #expect(differ.isEmpty, "\(differ.count) differ, first \(differ.prefix(5))")
    }
}
