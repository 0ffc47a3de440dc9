import GGUF
import ShimmyTestSupport
import Testing
@testable import Tensors

/// Dequantizes `bytes` with both kernels of `type` and returns the index of the first bitwise difference.
func firstDifference(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> (Int, Float, Float)? {
    var simd = [Float](repeating: 1, count: count)
    var reference = [Float](repeating: 2, count: count)
    bytes.withUnsafeBytes { src in
        simd.withUnsafeMutableBufferPointer { type.traits.dequantizeRow(src.baseAddress!, $0.baseAddress!, count) }
        reference.withUnsafeMutableBufferPointer {
            type.traits.dequantizeRowReference(src.baseAddress!, $0.baseAddress!, count)
        }
    }
    for i in 0..<count where simd[i].bitPattern != reference[i].bitPattern {
        return (i, simd[i], reference[i])
    }
    return nil
}

@Suite("Dequantize")
struct DequantizeTests {
    static let counts = [32, 64, 96, 576, 4096]

    @Test("SIMD dequantize equals the reference bit for bit on random blocks (NaN and Inf scales included)",
          arguments: GGMLType.allCases, counts)
    func simdMatchesReference(type: GGMLType, count: Int) throws {
        var rng = SplitMix64(state: UInt64(type.rawValue) &* 1000 &+ UInt64(count))
        let bytes = rng.bytes(try #require(type.rowSize(count)))
        let diff = firstDifference(type, bytes, count: count)
        #expect(diff == nil, "\(type) n=\(count): first difference at \(diff.map { "\($0.0): simd \($0.1) (0x\(String($0.1.bitPattern, radix: 16))) vs reference \($0.2) (0x\(String($0.2.bitPattern, radix: 16)))" } ?? "")")
    }

    @Test("F16 and BF16 rows of any length, tails included", arguments: [GGMLType.f16, .bf16], [1, 15, 16, 17, 33, 100])
    func floatTails(type: GGMLType, count: Int) {
        var rng = SplitMix64(state: UInt64(count))
        let diff = firstDifference(type, rng.bytes(2 * count), count: count)
        #expect(diff == nil, "\(type) n=\(count): first difference at \(String(describing: diff))")
    }

    @Test("every fp16 bit pattern converts like ggml's software fp16 -> fp32")
    func fp16ToFp32Exhaustive() {
        var mismatches: [UInt16] = []
        for h in 0...UInt16.max {
            let fast = Float16Conversion.float(fromBits: h)
            let reference = Float16Conversion.referenceFloat(fromBits: h)
            if fast.bitPattern != reference.bitPattern { mismatches.append(h) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) halves differ, first: \(mismatches.prefix(5).map { String($0, radix: 16) })")
    }

    @Test("the block-scale loader converts every fp16 bit pattern like the scalar conversion")
    func floats4Exhaustive() {
        let all = (0...UInt16.max).map { $0 }
        var mismatches: [UInt16] = []
        all.withUnsafeBytes { raw in
            for i in stride(from: 0, to: all.count, by: 4) {
                let v = Float16Conversion.floats4(at: raw.baseAddress! + 2 * i)
                for k in 0..<4 where v[k].bitPattern != Float16Conversion.referenceFloat(fromBits: all[i + k]).bitPattern {
                    mismatches.append(all[i + k])
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) halves differ, first: \(mismatches.prefix(5).map { String($0, radix: 16) })")
    }

    @Test("fp32 -> fp16 rounds like ggml: every half, its neighbours and the midpoints between halves")
    func fp32ToFp16Boundaries() {
        var mismatches: [UInt32] = []
        func check(_ bits: UInt32) {
            let f = Float(bitPattern: bits)
            if Float16Conversion.bits(from: f) != Float16Conversion.referenceBits(from: f) { mismatches.append(bits) }
        }
        for h in 0...UInt16.max {
            let f = Float16Conversion.referenceFloat(fromBits: h).bitPattern
            // the half itself and the floats around it: ties sit 2^12 or so ulps of Float away
            for delta: UInt32 in [0, 1, 2, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x2001] {
                check(f &+ delta)
                check(f &- delta)
            }
        }
        // a coarse sweep over all floats, plus the specials
        for bits in stride(from: UInt32(0), to: UInt32.max - 65_521, by: 65_521) { check(bits) }
        for f: Float in [0, -0, .infinity, -.infinity, .nan, -.nan, .signalingNaN, .greatestFiniteMagnitude,
                         .leastNonzeroMagnitude, 65504, 65519.99, 65520, 6.0e-8, 2.9e-8, 3.0e-8] {
            check(f.bitPattern)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) floats differ, first: \(mismatches.prefix(5).map { "0x" + String($0, radix: 16) })")
    }

    @Test("fp32 -> bf16 rounds to nearest even and keeps NaN quiet")
    func bf16Rounding() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),   // 1.0
            (0x3F80_8000, 0x3F80),   // tie, even stays
            (0x3F81_8000, 0x3F82),   // tie, odd rounds up
            (0x3F80_8001, 0x3F81),   // above the tie
            (0x7F80_0000, 0x7F80),   // +inf
            (0x7F80_0001, 0x7FC0),   // signalling NaN with a low payload: forced quiet
            (0xFFC0_0000, 0xFFC0),   // -NaN
            (0x7F7F_FFFF, 0x7F80),   // max float rounds to inf
        ]
        for (input, expected) in cases {
            let got = BF16Conversion.bits(from: Float(bitPattern: input))
            #expect(got == expected, "0x\(String(input, radix: 16)) -> 0x\(String(got, radix: 16)), want 0x\(String(expected, radix: 16))")
        }
    }
}
