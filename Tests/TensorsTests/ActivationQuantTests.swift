import ShimmyTestSupport
import Testing
@testable import Tensors

@Suite("ActivationQuant")
struct ActivationQuantTests {
    /// Quantizes one 32-value block to Q8_1 and returns (q, d, s).
    func quantize(_ x: [Float]) -> (q: [Int8], d: Float, s: Float) {
        var q = [Int8](repeating: 0, count: 32)
        var d: Float = .nan
        var s: Float = .nan
        ActivationQuant.quantizeRowQ8_1(x, &q, &d, &s, count: 32)
        return (q, d, s)
    }

    @Test("halfway values round to even, as the x86 build of llama.cpp does")
    func tiesToEven() {
        // amax 127 makes id exactly 1, so x·id keeps its .5 fractions.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127
        x[1] = 2.5
        x[2] = 3.5
        x[3] = -2.5
        x[4] = 0.5
        let r = quantize(x)
        #expect(Array(r.q[0..<5]) == [127, 2, 4, -2, 0], "q = \(r.q[0..<5])")
        #expect(r.d == 1)
        #expect(r.s == Float(Float16(Float(127 + 2 + 4 - 2))))
    }

    @Test("Q8_0 and Q8_1 agree on values and scales; reconstruction error is within half a step")
    func q8Consistency() {
        var rng = SplitMix64(state: 99)
        let x = (0..<96).map { _ in rng.float() * 5 }
        var q0 = [Int8](repeating: 0, count: 96), q1 = q0
        var d0 = [Float](repeating: 0, count: 3), d1 = d0, s = d0
        ActivationQuant.quantizeRowQ8_0(x, &q0, &d0, count: 96)
        ActivationQuant.quantizeRowQ8_1(x, &q1, &d1, &s, count: 96)
        #expect(q0 == q1 && d0 == d1)
        for blk in 0..<3 {
            let part = x[(blk * 32)..<(blk * 32 + 32)]
            let amax: Float = part.map { abs($0) }.max() ?? 0
            let hasFull = q0[(blk * 32)..<(blk * 32 + 32)].contains { $0 == 127 || $0 == -127 }
            #expect(hasFull, "block \(blk) has no ±127")
            let step = amax / 127
            var worst: Float = 0
            for j in 0..<32 {
                let error: Float = abs(Float(q0[blk * 32 + j]) * step - x[blk * 32 + j])
                worst = max(worst, error)
            }
            #expect(worst <= step * 0.5001, "block \(blk): error \(worst) > half step \(step / 2)")
            #expect(abs(d0[blk] - step) <= step * 1e-3, "d \(d0[blk]) vs \(step)")
        }
    }

    @Test("an all-zero block gives d = 0 and q = 0")
    func zeroBlock() {
        let r = quantize([Float](repeating: 0, count: 32))
        #expect(r.q.allSatisfy { $0 == 0 } && r.d == 0 && r.s == 0)
    }

    @Test("bfloat16 rounding: nearest, ties to even, NaN stays NaN")
    func bf16() {
        #expect(ActivationQuant.bf16Bits(1.0) == 0x3F80)
        #expect(ActivationQuant.bf16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie, even stays
        #expect(ActivationQuant.bf16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie, odd rounds up
        #expect(ActivationQuant.bf16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        let nan = ActivationQuant.bf16Bits(.nan)
        #expect(Float(bitPattern: UInt32(nan) << 16).isNaN)
    }

    @Test("vec-dot types follow llama.cpp's CPU type traits")
    func vecDotTypes() {
        #expect(VecDotType(weights: .q4_0) == .q8_0)
        #expect(VecDotType(weights: .q8_0) == .q8_0)
        #expect(VecDotType(weights: .q4_1) == .q8_1)
        #expect(VecDotType(weights: .f16) == .f16)
        #expect(VecDotType(weights: .bf16) == .bf16)
        #expect(VecDotType(weights: .f32) == .f32)
    }
}

@Suite("Dot helpers")
struct DotHelperTests {
    @Test("the integer Float16 conversion is exact for all 65536 bit patterns")
    func halfConversion() {
        var wrong: [UInt16] = []
        for bits in 0...UInt16.max {
            let want = Float(Float16(bitPattern: bits))
            let got = halfBitsToFloat(bits)
            let same = want.isNaN ? got.isNaN : got.bitPattern == want.bitPattern
            if !same { wrong.append(bits) }
        }
        #expect(wrong.isEmpty, "\(wrong.count) patterns differ, first \(wrong.prefix(5).map { String($0, radix: 16) })")
    }
}

@Suite("ActivationQuant wide")
struct ActivationQuantWideTests {
    @Test("the Int16 SIMD quantizer equals the scalar Q8_0/Q8_1 quantizers bit for bit")
    func wideMatchesScalar() {
        var rng = SplitMix64(state: 5)
        var x = (0..<(32 * 40)).map { _ in rng.float() * 4 }
        // Exact ties and an all-zero block.
        for j in 0..<32 { x[j] = Float(j - 16) + 0.5 }
        x[5] = 127
        for j in 32..<64 { x[j] = 0 }
        let n = x.count
        var q8 = [Int8](repeating: 0, count: n), d8 = [Float](repeating: 0, count: n / 32), s8 = d8
        ActivationQuant.quantizeRowQ8_1(x, &q8, &d8, &s8, count: n)
        var q16 = [Int16](repeating: 0, count: n), d16 = d8, s16 = d8
        q16.withUnsafeMutableBufferPointer { q in
            d16.withUnsafeMutableBufferPointer { d in
                s16.withUnsafeMutableBufferPointer { s in
                    ActivationQuant.quantizeRowWide(x, q.baseAddress!, d.baseAddress!, s.baseAddress!, count: n)
                }
            }
        }
        let qDiff = (0..<n).filter { Int16(q8[$0]) != q16[$0] }
        #expect(qDiff.isEmpty, "\(qDiff.count) values differ, first at \(qDiff.first ?? -1)")
        #expect(d8 == d16, "scales differ: \(zip(d8, d16).first { $0 != $1 }.map { "\($0)" } ?? "")")
        #expect(s8 == s16, "sums differ: \(zip(s8, s16).first { $0 != $1 }.map { "\($0)" } ?? "")")
    }
}
