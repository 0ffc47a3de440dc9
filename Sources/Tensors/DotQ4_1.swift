/// Q4_1 weights · Q8_1 activations. ref: ggml-cpu arch/x86/quants.c ggml_vec_dot_q4_1_q8_1
///
/// A Q4_1 block is 20 bytes: Float16 `d`, Float16 `m`, then 16 bytes of nibbles (low nibble = value j, high nibble
/// = value j + 16, values 0...15). Per block: `acc += (d_w · d_x) · lanes` and `mins += m_w · s_x`, where
/// `s_x = d_x · Σq` is stored with the activation block.
enum DotQ4_1 {
    static let blockBytes = 20

    /// One weight row · one activation row of `blocks` blocks.
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, _ q: UnsafePointer<Int8>, _ scales: UnsafePointer<Float>,
                    _ sums: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        var mins: Float = 0
        for b in 0..<blocks {
            let block = w + b &* blockBytes
            mins = mins.addingProduct(loadHalf(block + 2), sums[b])
            acc = step(acc, block, q + b &* 32, scales[b])
        }
        return treeSum(acc) + mins
    }

    /// Adds one block's lane sums, scaled by `d_w · d_x`, to `acc`.
    @inline(__always)
    static func step(_ acc: SIMD16<Float>, _ block: UnsafeRawPointer, _ q: UnsafePointer<Int8>,
                     _ dx: Float) -> SIMD16<Float> {
        let d = loadHalf(block) * dx
        let bytes = (block + 4).loadUnaligned(as: SIMD16<UInt8>.self)
        let lo = widen(bytes & 0x0F)
        let hi = widen(bytes &>> 4)
        let qa = widen(UnsafeRawPointer(q).loadUnaligned(as: SIMD16<Int8>.self))
        let qb = widen(UnsafeRawPointer(q + 16).loadUnaligned(as: SIMD16<Int8>.self))
        let lanes = lo &* qa &+ hi &* qb
        return fma(acc, toFloat(lanes), d)
    }

    /// `out[b · outStride + r] = W[r] · x[b]` for the rows in `rows` and every activation row.
    static func rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,
                     rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* blockBytes
        for r in rows {
            let wr = w.data + r &* rowBytes
            for b in 0..<batch {
                out[b &* outStride &+ r] = dot(wr, x.int8Row(b), x.scaleRow(b), x.sumRow(b), blocks: x.blocks)
            }
        }
    }
}
