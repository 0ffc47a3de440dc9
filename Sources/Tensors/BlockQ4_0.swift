/// One Q4_0 block: 32 weights as 4-bit integers `q` in 0...15 with value `(q - 8) * d`.
///
/// Layout (18 bytes, as `block_q4_0` in ggml-common.h): `d` (fp16 bits), then 16 bytes whose low nibbles
/// hold weights 0..<16 and whose high nibbles hold weights 16..<32 (low nibbles first).
public struct BlockQ4_0 {
    /// The scale, as fp16 bits.
    public var d: UInt16
    /// Packed nibbles: byte `j` holds weight `j` (low) and weight `j + 16` (high).
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    /// Weights per block.
    public static let blockSize = 32
    /// Bytes per block (`MemoryLayout<BlockQ4_0>.size`, checked by a test).
    public static let byteSize = 18

    // ref: ggml-quants.c dequantize_row_q4_0
    /// Dequantizes `count` weights (a multiple of 32) from blocks at `src` into `dst`, one element at a time.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let d = Float16Conversion.referenceFloat(fromBits: block.loadUnaligned(as: UInt16.self))
            let y = dst + i * blockSize
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                let x0 = Int32(byte & 0x0F) - 8
                let x1 = Int32(byte >> 4) - 8
                y[j] = Float(x0) * d
                y[j + 16] = Float(x1) * d
            }
        }
    }

    /// Dequantizes like `dequantizeRowReference`, 16 lanes at a time; bit-identical results.
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        let out = UnsafeMutableRawPointer(dst)
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let d = SIMD16<Float>(repeating: Float16Conversion.floats4(at: block)[0])   // d, then weights
            let q = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
            let low = Self.centered(q & 0x0F)
            let high = Self.centered(q &>> 4)
            out.storeBytes(of: low * d, toByteOffset: i * 128, as: SIMD16<Float>.self)
            out.storeBytes(of: high * d, toByteOffset: i * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    /// `Float(q - 8)` per lane (an element loop: the generic SIMD conversions are not inlined).
    @inline(__always)
    static func centered(_ q: SIMD16<UInt8>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for k in 0..<16 { r[k] = Float(Int32(q[k]) - 8) }
        return r
    }

    // ref: ggml-quants.c quantize_row_q4_0_ref
    /// Quantizes `count` floats (a multiple of 32) into blocks at `dst` with ggml's reference algorithm:
    /// the scale is the signed value of largest magnitude over -8.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let x = src + i * blockSize
            var amax: Float = 0   // absolute max
            var max: Float = 0
            for j in 0..<blockSize {
                let v = x[j]
                if amax < abs(v) {
                    amax = abs(v)
                    max = v
                }
            }
            let d = max / -8
            let id: Float = d != 0 ? 1 / d : 0
            let block = dst + i * byteSize
            block.storeBytes(of: Float16Conversion.bits(from: d), as: UInt16.self)
            for j in 0..<16 {
                let x0 = x[j] * id
                let x1 = x[j + 16] * id
                let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, BlockConversions.truncatedInt8(x0 + 8.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, BlockConversions.truncatedInt8(x1 + 8.5)))
                block.storeBytes(of: xi0 | (xi1 &<< 4), toByteOffset: 2 + j, as: UInt8.self)
            }
        }
    }
}
