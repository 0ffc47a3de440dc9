/// Rows of BF16 values (2 bytes each, the top half of a `Float`) to and from `Float`.
public enum BF16Rows {
    // ref: ggml.c ggml_bf16_to_fp32_row
    /// Converts `count` bfloat16 values at `src` to floats, one element at a time.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<Swift.max(count, 0) {
            dst[i] = BF16Conversion.float(fromBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
    }

    /// Converts like `dequantizeRowReference`, 16 lanes at a time (a widening shift); bit-identical results.
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = Swift.max(count, 0)
        let out = UnsafeMutableRawPointer(dst)
        var i = 0
        while i + 16 <= n {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)
            var w = SIMD16<UInt32>()
            for k in 0..<16 { w[k] = UInt32(h[k]) &<< 16 }
            out.storeBytes(of: w, toByteOffset: 4 * i, as: SIMD16<UInt32>.self)
            i += 16
        }
        while i < n {
            dst[i] = BF16Conversion.float(fromBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            i += 1
        }
    }

    // ref: ggml.c ggml_fp32_to_bf16_row_ref
    /// Converts `count` floats to bfloat16 (round to nearest even, NaN forced quiet), as ggml's reference.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<Swift.max(count, 0) {
            dst.storeBytes(of: BF16Conversion.bits(from: src[i]), toByteOffset: 2 * i, as: UInt16.self)
        }
    }
}
