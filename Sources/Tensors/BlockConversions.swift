/// Scalar helpers shared by the block formats: C's float → integer conversion as x86 performs it.
enum BlockConversions {
    /// `(int)x` as x86's `cvttss2si` computes it: truncation toward zero, and `Int32.min` (the "integer
    /// indefinite" value) for NaN or a value out of range. ggml's quantizers cast floats to `int8_t`
    /// this way, so a port must not trap where C silently wraps.
    @inline(__always)
    static func truncatedInt32(_ x: Float) -> Int32 {
        // -2^31 is representable; 2^31 is not.
        guard x >= -2_147_483_648.0, x < 2_147_483_648.0 else { return Int32.min }
        return Int32(x)
    }

    /// `(int8_t)x` for a float `x`, as compiled C does it on x86 (the low byte of `cvttss2si`).
    @inline(__always)
    static func truncatedInt8(_ x: Float) -> Int8 {
        Int8(truncatingIfNeeded: truncatedInt32(x))
    }

    /// Checks a row call's arguments: `count` non-negative and a multiple of `blockSize`.
    /// Returns the number of whole blocks; a trailing partial block is ignored rather than overrun.
    @inline(__always)
    static func blockCount(_ count: Int, _ blockSize: Int) -> Int {
        count > 0 ? count / blockSize : 0
    }
}
