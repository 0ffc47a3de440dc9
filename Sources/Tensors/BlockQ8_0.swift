/// One Q8_0 block: 32 weights as signed 8-bit integers `q` with value `q * d`.
///
/// Layout (34 bytes, as `block_q8_0` in ggml-common.h): `d` (fp16 bits), then 32 `Int8`s in order.
public struct BlockQ8_0 {
    /// The scale, as fp16 bits.
    public var d: UInt16
    /// The quantized weights, in order.
    public var qs: (Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8,
                    Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8)

    /// Weights per block.
    public static let blockSize = 32
    /// Bytes per block (`MemoryLayout<BlockQ8_0>.size`, checked by a test).
    public static let byteSize = 34

    // ref: ggml-quants.c dequantize_row_q8_0
    /// Dequantizes `count` weights (a multiple of 32) from blocks at `src` into `dst`, one element at a time.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let d = Float16Conversion.referenceFloat(fromBits: block.loadUnaligned(as: UInt16.self))
            let y = dst + i * blockSize
            for j in 0..<blockSize {
                y[j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d
            }
        }
    }

    /// Dequantizes like `dequantizeRowReference`, 16 lanes at a time; bit-identical results.
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        let out = UnsafeMutableRawPointer(dst)
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let block = src + i * byteSize
            let d = SIMD16<Float>(repeating: Float16Conversion.floats4(at: block)[0])   // d, then weights
            let q0 = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
            let q1 = block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
            out.storeBytes(of: Self.floats(q0) * d, toByteOffset: i * 128, as: SIMD16<Float>.self)
            out.storeBytes(of: Self.floats(q1) * d, toByteOffset: i * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    /// `Float(q)` per lane (an element loop: the generic SIMD conversions are not inlined).
    @inline(__always)
    static func floats(_ q: SIMD16<Int8>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for k in 0..<16 { r[k] = Float(Int32(q[k])) }
        return r
    }

    // ref: ggml-quants.c quantize_row_q8_0_ref
    /// Quantizes `count` floats (a multiple of 32) into blocks at `dst` with ggml's reference algorithm:
    /// `d = amax / 127`, each weight rounded half away from zero.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
        for i in 0..<BlockConversions.blockCount(count, blockSize) {
            let x = src + i * blockSize
            var amax: Float = 0   // absolute max
            for j in 0..<blockSize {
                let v = abs(x[j])
                amax = amax > v ? amax : v   // ggml's MAX(a, b): a NaN in b wins, as in C
            }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            let block = dst + i * byteSize
            block.storeBytes(of: Float16Conversion.bits(from: d), as: UInt16.self)
            for j in 0..<blockSize {
                let x0 = x[j] * id
                let q = BlockConversions.truncatedInt8(x0.rounded(.toNearestOrAwayFromZero))
                block.storeBytes(of: q, toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }
}
