/// One Q4_1 block: 32 weights as 4-bit integers `q` in 0...15 with value `q * d + m`.
///
/// Layout (20 bytes, as `block_q4_1` in ggml-common.h): `d` and `m` (fp16 bits), then 16 bytes whose low
/// nibbles hold weights 0..<16 and whose high nibbles hold weights 16..<32.
public struct BlockQ4_1 {
    /// The scale, as fp16 bits.
    public var d: UInt16
    /// The minimum (offset), as fp16 bits.
    public var m: UInt16
    /// Packed nibbles: byte `j` holds weight `j` (low) and weight `j + 16` (high).
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    /// Weights per block.
    public static let blockSize = 32
    /// Bytes per block (`MemoryLayout<BlockQ4_1>.size`, checked by a test).
    public static let byteSize = 20

    // ref: ggml-quants.c dequantize_row_q4_1
    /// Dequantizes `count` weights (a multiple of 32) from blocks at `src` into `dst`, one element at a time.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let d = Float16Conversion.referenceFloat(fromBits: block.loadUnaligned(as: UInt16.self))
            let m = Float16Conversion.referenceFloat(fromBits: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            let y = dst + i * blockSize
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                let x0 = Int32(byte & 0x0F)
                let x1 = Int32(byte >> 4)
                y[j] = Float(x0) * d + m
                y[j + 16] = Float(x1) * d + m
            }
        }
    }

    /// Dequantizes like `dequantizeRowReference`, 16 lanes at a time; bit-identical results.
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        let out = UnsafeMutableRawPointer(dst)
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let scales = Float16Conversion.floats4(at: block)   // d, m, then weights
            let d = SIMD16<Float>(repeating: scales[0])
            let m = SIMD16<Float>(repeating: scales[1])
            let q = block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
            // q * d is exact (4 bits times 11), so a fused multiply-add rounds the same as ggml's two steps.
            let low = Self.floats(q & 0x0F) * d + m
            let high = Self.floats(q &>> 4) * d + m
            out.storeBytes(of: low, toByteOffset: i * 128, as: SIMD16<Float>.self)
            out.storeBytes(of: high, toByteOffset: i * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    /// `Float(q)` per lane (an element loop: the generic SIMD conversions are not inlined).
    @inline(__always)
    static func floats(_ q: SIMD16<UInt8>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for k in 0..<16 { r[k] = Float(Int32(q[k])) }
        return r
    }

    // ref: ggml-quants.c quantize_row_q4_1_ref
    /// Quantizes `count` floats (a multiple of 32) into blocks at `dst` with ggml's reference algorithm:
    /// `m` is the block minimum and `d` spreads the range over 15 steps.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let x = src + i * blockSize
            var min = Float.greatestFiniteMagnitude
            var max = -Float.greatestFiniteMagnitude
            for j in 0..<blockSize {
                let v = x[j]
                if v < min { min = v }
                if v > max { max = v }
            }
            let d = (max - min) / 15
            let id: Float = d != 0 ? 1 / d : 0
            let block = dst + i * byteSize
            block.storeBytes(of: Float16Conversion.bits(from: d), as: UInt16.self)
            block.storeBytes(of: Float16Conversion.bits(from: min), toByteOffset: 2, as: UInt16.self)
            for j in 0..<16 {
                let x0 = (x[j] - min) * id
                let x1 = (x[j + 16] - min) * id
                let xi0 = UInt8(truncatingIfNeeded: Swift.min(15, BlockConversions.truncatedInt8(x0 + 0.5)))
                let xi1 = UInt8(truncatingIfNeeded: Swift.min(15, BlockConversions.truncatedInt8(x1 + 0.5)))
                block.storeBytes(of: xi0 | (xi1 &<< 4), toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }
}
