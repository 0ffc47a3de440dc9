import GGUF

/// The type activations are converted to before a dot product with weights of a given type, as in llama.cpp's CPU
/// backend (`vec_dot_type` in ggml-cpu's type traits).
public enum VecDotType: Sendable, Equatable {
    /// F32 activations used as they are (F32 weights).
    case f32
    /// Activations rounded to Float16 (F16 weights).
    case f16
    /// Activations rounded to bfloat16 (BF16 weights).
    case bf16
    /// Blocks of 32 int8 with a Float16 scale `d` (Q4_0 and Q8_0 weights).
    case q8_0
    /// Blocks of 32 int8 with a Float16 scale `d` and `s = d·Σq` (Q4_1 weights).
    case q8_1

    /// The vec-dot type for weights of `type`.
    public init(weights type: GGMLType) {
        switch type {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q4_0, .q8_0: self = .q8_0
        case .q4_1: self = .q8_1
        }
    }
}

/// Converts activations to a vec-dot type, writing the split layout the kernels read: for the int8 types, the
/// quantized values of a row are contiguous (`cols` bytes) and the block scales (and sums) are separate float arrays,
/// each already rounded through Float16 exactly as llama.cpp stores them.
public enum ActivationQuant {
    /// Quantizes one row of `count` floats (a multiple of 32) to Q8_0: per block of 32, `d = amax / 127`,
    /// `q = round_half_even(x · 127/amax)`; `scales[block]` receives `Float(Float16(d))`.
    /// ref: ggml-cpu arch/x86/quants.c quantize_row_q8_0 (the x86 build rounds half to even; `_ref` uses roundf).
    @inlinable
    public static func quantizeRowQ8_0(_ x: UnsafePointer<Float>, _ qs: UnsafeMutablePointer<Int8>,
                                       _ scales: UnsafeMutablePointer<Float>, count: Int) {
        let blocks = count / 32
        for b in 0..<blocks {
            let d = quantizeBlock(x + b * 32, qs + b * 32)
            scales[b] = Float(Float16(d))
        }
    }

    /// Quantizes one row to Q8_1: like Q8_0, plus `sums[block] = Float(Float16(d · Σq))` (d before rounding).
    /// ref: ggml-cpu arch/x86/quants.c quantize_row_q8_1
    @inlinable
    public static func quantizeRowQ8_1(_ x: UnsafePointer<Float>, _ qs: UnsafeMutablePointer<Int8>,
                                       _ scales: UnsafeMutablePointer<Float>, _ sums: UnsafeMutablePointer<Float>,
                                       count: Int) {
        let blocks = count / 32
        for b in 0..<blocks {
            let q = qs + b * 32
            let d = quantizeBlock(x + b * 32, q)
            var sum: Int32 = 0
            for i in 0..<32 { sum &+= Int32(q[i]) }
            scales[b] = Float(Float16(d))
            sums[b] = Float(Float16(d * Float(sum)))
        }
    }

    /// Quantizes 32 floats to int8 and returns the unrounded scale `amax / 127`.
    @inlinable @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>) -> Float {
        var amax: Float = 0
        for i in 0..<32 { amax = Swift.max(amax, Swift.abs(x[i])) }
        let d = amax / 127
        let id: Float = amax != 0 ? 127 / amax : 0
        for i in 0..<32 {
            // |x · id| ≤ 127 up to rounding, so the conversion cannot overflow; NaN inputs become 0.
            let v = (x[i] * id).rounded(.toNearestOrEven)
            q[i] = v.isNaN ? 0 : Int8(Swift.max(-127, Swift.min(127, v)))
        }
        return d
    }

    /// Rounds `count` floats to Float16 (round to nearest even, as F16C's `vcvtps2ph`).
    /// ref: ggml-cpu ggml_cpu_fp32_to_fp16
    @inlinable
    public static func convertRowF16(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float16>, count: Int) {
        for i in 0..<count { y[i] = Float16(x[i]) }
    }

    /// Rounds `count` floats to bfloat16 bits (round to nearest even; NaN made quiet).
    /// ref: ggml-impl.h ggml_compute_fp32_to_bf16
    @inlinable
    public static func convertRowBF16(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { y[i] = bf16Bits(x[i]) }
    }

    /// The bfloat16 bits of one float, rounded to nearest even.
    @inlinable @inline(__always)
    public static func bf16Bits(_ value: Float) -> UInt16 {
        let u = value.bitPattern
        if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
        return UInt16(truncatingIfNeeded: (u &+ (0x7fff &+ ((u >> 16) & 1))) >> 16)
    }
}

extension ActivationQuant {
    /// Quantizes one row to Q8_0 (or Q8_1 when `sums` is given) like `quantizeRowQ8_0`/`quantizeRowQ8_1`, but writes
    /// the values widened to Int16, the form the portable matmul kernels multiply, with 16-lane SIMD.
    /// Bit-identical to the scalar versions (same `d`, `id`, round-half-even, `s`).
    @inlinable
    static func quantizeRowWide(_ x: UnsafePointer<Float>, _ qs: UnsafeMutablePointer<Int16>,
                                _ scales: UnsafeMutablePointer<Float>, _ sums: UnsafeMutablePointer<Float>?,
                                count: Int) {
        for b in 0..<count / 32 {
            let (a, c, d, total) = quantizeBlock16(x + b &* 32)
            var q0 = SIMD16<Int16>(), q1 = SIMD16<Int16>()
            for i in 0..<16 { q0[i] = Int16(truncatingIfNeeded: a[i]) }
            for i in 0..<16 { q1[i] = Int16(truncatingIfNeeded: c[i]) }
            let out = UnsafeMutableRawPointer(qs + b &* 32)
            out.storeBytes(of: q0, as: SIMD16<Int16>.self)
            out.storeBytes(of: q1, toByteOffset: 32, as: SIMD16<Int16>.self)
            scales[b] = Float(Float16(d))
            if let sums { sums[b] = Float(Float16(d * Float(total))) }
        }
    }

    /// `quantizeRowWide` writing the values as Int8, the form the VNNI kernels read, and each block's `-8 Σq`.
    @inlinable
    static func quantizeRowWide(_ x: UnsafePointer<Float>, _ qs: UnsafeMutablePointer<Int8>,
                                _ scales: UnsafeMutablePointer<Float>, _ sums: UnsafeMutablePointer<Float>?,
                                _ offsets: UnsafeMutablePointer<Int32>, count: Int) {
        for b in 0..<count / 32 {
            let (a, c, d, total) = quantizeBlock16(x + b &* 32)
            let out = UnsafeMutableRawPointer(qs + b &* 32)
            var o0 = SIMD16<Int8>(), o1 = SIMD16<Int8>()  // straight from the 32-bit lanes (`vpmovdb`)
            for i in 0..<16 { o0[i] = Int8(truncatingIfNeeded: a[i]) }
            for i in 0..<16 { o1[i] = Int8(truncatingIfNeeded: c[i]) }
            out.storeBytes(of: o0, as: SIMD16<Int8>.self)
            out.storeBytes(of: o1, toByteOffset: 16, as: SIMD16<Int8>.self)
            offsets[b] = 0 &- (total &<< 3)  // -8 Σq: the start of a Q4_0 block dot (weights q - 8)
            scales[b] = Float(Float16(d))
            if let sums { sums[b] = Float(Float16(d * Float(total))) }
        }
    }

    /// One block of 32 floats quantized with 16-lane SIMD: values 0-15 and 16-31 (each within ±127, in 32-bit lanes that
    /// each caller narrows to the width it stores), the unrounded scale `amax / 127` and the sum of the values.
    @inlinable @inline(__always)
    static func quantizeBlock16(_ x: UnsafePointer<Float>) -> (SIMD16<Int32>, SIMD16<Int32>, Float, Int32) {
        let p = UnsafeRawPointer(x)
        let v0 = p.loadUnaligned(as: SIMD16<Float>.self)
        let v1 = p.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        var m = SIMD16<Float>()
        for i in 0..<16 { m[i] = Swift.max(Swift.abs(v0[i]), Swift.abs(v1[i])) }
        let amax = treeMax(m)
        let d = amax / 127
        let id: Float = amax != 0 ? 127 / amax : 0
        // round_half_even(v) clamped to ±127, NaN → 0 (as in `quantizeBlock`), one operation at a time across the
        // lanes (one loop doing all of them per lane stayed partly scalar); a nested function, as a static one was
        // not inlined
        @inline(__always) func roundedLanes(_ v: SIMD16<Float>) -> SIMD16<Int32> {
            var n = SIMD16<Float>()
            for i in 0..<16 { n[i] = v[i].rounded(.toNearestOrEven) }
            // Swift.max(-127, Swift.min(127, n)) (`y < x ? y : x`, `y >= x ? y : x`), then NaN → 0, as whole-vector
            // selects (bit operations: the same steps written per lane stayed loops with branches, and the standard
            // library's `replacing(with:where:)` kept the function from being inlined)
            let low = select(n .< 127, n, SIMD16(repeating: 127))
            let c = select(low .>= -127, low, SIMD16(repeating: -127))
            let r = select(c .!= c, SIMD16(), c)
            // to Int32 through the float's bits: r + 1.5 · 2^23 holds an integer within ±2^22 in its low mantissa
            // bits (`Int32(Float)` checks its range lane by lane, which kept the loop scalar)
            let magic = SIMD16<Float>(repeating: 0x1.8p23)
            return unsafeBitCast(r + magic, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        }
        let a = roundedLanes(v0 * id), c = roundedLanes(v1 * id)
        return (a, c, d, laneSum(a &+ c))
    }

    /// Lane i of `a` where `mask[i]`, else of `b`.
    @inlinable @inline(__always)
    static func select(_ mask: SIMDMask<SIMD16<Int32>>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        let k = mask._storage  // all ones where true
        let x = unsafeBitCast(a, to: SIMD16<Int32>.self), y = unsafeBitCast(b, to: SIMD16<Int32>.self)
        return unsafeBitCast((x & k) | (y & ~k), to: SIMD16<Float>.self)
    }

    /// The largest of 16 lanes.
    @inlinable @inline(__always)
    static func treeMax(_ v: SIMD16<Float>) -> Float {
        var a = SIMD8<Float>(), b = SIMD4<Float>()
        for i in 0..<8 { a[i] = Swift.max(v[i], v[i + 8]) }
        for i in 0..<4 { b[i] = Swift.max(a[i], a[i + 4]) }
        return Swift.max(Swift.max(b[0], b[2]), Swift.max(b[1], b[3]))
    }
}
