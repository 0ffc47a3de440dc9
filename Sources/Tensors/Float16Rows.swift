/// Rows of F16 values (2 bytes each, IEEE binary16 bits) to and from `Float`.
public enum Float16Rows {
    // ref: ggml.c ggml_fp16_to_fp32_row
    /// Converts `count` halves at `src` to floats, one element at a time with ggml's software conversion.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<Swift.max(count, 0) {
            dst[i] = Float16Conversion.referenceFloat(fromBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
    }

    /// Converts like `dequantizeRowReference`, 16 lanes at a time (`vcvtph2ps`); bit-identical results.
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = Swift.max(count, 0)
        let out = UnsafeMutableRawPointer(dst)
        var i = 0
        while i + 16 <= n {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)
            out.storeBytes(of: Self.floats(h), toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            dst[i] = Float16Conversion.float(fromBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            i += 1
        }
    }

    @inline(__always)
    static func floats(_ h: SIMD16<UInt16>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for k in 0..<16 { r[k] = Float(Float16(bitPattern: h[k])) }
        return r
    }

    // ref: ggml.c ggml_fp32_to_fp16_row
    /// Converts `count` floats to halves with ggml's literal software conversion (round to nearest even).
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<Swift.max(count, 0) {
            dst.storeBytes(of: Float16Conversion.referenceBits(from: src[i]), toByteOffset: 2 * i, as: UInt16.self)
        }
    }

    /// Converts like `quantizeRowReference` with the F16C instructions; bit-identical results.
    public static func quantizeRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<Swift.max(count, 0) {
            dst.storeBytes(of: Float16Conversion.bits(from: src[i]), toByteOffset: 2 * i, as: UInt16.self)
        }
    }
}
