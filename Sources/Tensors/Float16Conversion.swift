/// Half-precision (IEEE binary16) conversions that round exactly like ggml.
///
/// ggml converts with `ggml_compute_fp32_to_fp16` (round to nearest even, every NaN becomes the quiet
/// NaN `0x7E00` with the input's sign) and `ggml_compute_fp16_to_fp32` (exact). The fast versions use the
/// F16C instructions through `Float16` and patch NaN; tests hold them to the literal ports bit for bit.
///
/// ```swift
/// let h = Float16Conversion.bits(from: 0.1)       // 0x2E66
/// let x = Float16Conversion.float(fromBits: h)    // 0.099975586
/// ```
public enum Float16Conversion {
    /// The `Float` value of the half with bit pattern `bits` (exact; NaN payloads are kept and quieted).
    @inline(__always)
    public static func float(fromBits bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// The half bit pattern nearest to `value` (ties to even), as `GGML_FP32_TO_FP16` makes it.
    @inline(__always)
    public static func bits(from value: Float) -> UInt16 {
        let half = Float16(value).bitPattern
        // ggml turns every NaN into 0x7E00 with the input's sign; F16C keeps the payload.
        return value.isNaN ? (half & 0x8000) | 0x7E00 : half
    }

    /// The first four halves at `pointer` as floats, converted together from one 8-byte load.
    ///
    /// Block kernels read their scales with this: loading a single half into a vector register
    /// (`vpinsrw`) makes each block's scale wait for the previous block's result (a false dependency),
    /// which cost a third of the speed; a whole-register load has no such dependency.
    /// The caller guarantees 8 readable bytes. Bit-identical to `float(fromBits:)` per lane.
    @inline(__always)
    public static func floats4(at pointer: UnsafeRawPointer) -> SIMD4<Float> {
        let h = pointer.loadUnaligned(as: SIMD4<UInt16>.self)
        var r = SIMD4<Float>()
        for k in 0..<4 { r[k] = Float(Float16(bitPattern: h[k])) }
        return r
    }

    // ref: ggml-impl.h ggml_compute_fp16_to_fp32
    /// A literal port of ggml's software fp16 → fp32 conversion, the reference for tests.
    @inline(__always)
    public static func referenceFloat(fromBits h: UInt16) -> Float {
        let w = UInt32(h) << 16
        let sign = w & 0x8000_0000
        let twoW = w &+ w
        let expOffset: UInt32 = 0xE0 << 23
        let expScale = Float(bitPattern: 0x0780_0000)   // 0x1.0p-112
        let normalized = Float(bitPattern: (twoW >> 4) &+ expOffset) * expScale
        let magicMask: UInt32 = 126 << 23
        let denormalized = Float(bitPattern: (twoW >> 17) | magicMask) - 0.5
        let denormalizedCutoff: UInt32 = 1 << 27
        let result = sign | (twoW < denormalizedCutoff ? denormalized.bitPattern : normalized.bitPattern)
        return Float(bitPattern: result)
    }

    // ref: ggml-impl.h ggml_compute_fp32_to_fp16
    /// A literal port of ggml's software fp32 → fp16 conversion, the reference for tests.
    public static func referenceBits(from f: Float) -> UInt16 {
        let scaleToInf = Float(bitPattern: 0x7780_0000)    // 0x1.0p+112
        let scaleToZero = Float(bitPattern: 0x0880_0000)   // 0x1.0p-110
        var base = (abs(f) * scaleToInf) * scaleToZero
        let w = f.bitPattern
        let shl1W = w &+ w
        let sign = w & 0x8000_0000
        var bias = shl1W & 0xFF00_0000
        if bias < 0x7100_0000 { bias = 0x7100_0000 }
        base = Float(bitPattern: (bias >> 1) &+ 0x0780_0000) + base
        let bits = base.bitPattern
        let expBits = (bits >> 13) & 0x0000_7C00
        let mantissaBits = bits & 0x0000_0FFF
        let nonsign = expBits &+ mantissaBits
        return UInt16(truncatingIfNeeded: (sign >> 16) | (shl1W > 0xFF00_0000 ? 0x7E00 : nonsign))
    }
}
