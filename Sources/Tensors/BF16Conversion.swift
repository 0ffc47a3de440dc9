/// bfloat16 conversions that round exactly like ggml.
///
/// ```swift
/// let b = BF16Conversion.bits(from: 1.0)          // 0x3F80
/// let x = BF16Conversion.float(fromBits: b)       // 1.0
/// ```
public enum BF16Conversion {
    // ref: ggml-impl.h ggml_compute_bf16_to_fp32
    /// The `Float` value of the bfloat16 with bit pattern `bits` (exact).
    @inline(__always)
    public static func float(fromBits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    // ref: ggml-impl.h ggml_compute_fp32_to_bf16
    /// The bfloat16 nearest to `value` (ties to even); a NaN keeps its top bits and is forced quiet.
    @inline(__always)
    public static func bits(from value: Float) -> UInt16 {
        let u = value.bitPattern
        if u & 0x7FFF_FFFF > 0x7F80_0000 {
            return UInt16(truncatingIfNeeded: u >> 16) | 64
        }
        return UInt16(truncatingIfNeeded: (u &+ (0x7FFF &+ ((u >> 16) & 1))) >> 16)
    }
}
