/// Q8_0 weights · Q8_0 activations. ref: ggml-cpu arch/x86/quants.c ggml_vec_dot_q8_0_q8_0
///
/// A Q8_0 block is 34 bytes: Float16 `d`, then 32 int8. Lane sums of two products stay within Int16
/// (|q_w| ≤ 128, |q_x| ≤ 127), so the integer part is exact.
enum DotQ8_0 {
    static let blockBytes = 34

    /// One weight row · one activation row of `blocks` blocks.
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, _ q: UnsafePointer<Int8>, _ scales: UnsafePointer<Float>,
                    blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        for b in 0..<blocks {
            acc = step(acc, w + b &* blockBytes, q + b &* 32, scales[b])
        }
        return treeSum(acc)
    }

    /// Adds one block's lane sums, scaled by `d_w · d_x`, to `acc`.
    @inline(__always)
    static func step(_ acc: SIMD16<Float>, _ block: UnsafeRawPointer, _ q: UnsafePointer<Int8>,
                     _ dx: Float) -> SIMD16<Float> {
        let d = loadHalf(block) * dx
        let wa = widen((block + 2).loadUnaligned(as: SIMD16<Int8>.self))
        let wb = widen((block + 18).loadUnaligned(as: SIMD16<Int8>.self))
        let qa = widen(UnsafeRawPointer(q).loadUnaligned(as: SIMD16<Int8>.self))
        let qb = widen(UnsafeRawPointer(q + 16).loadUnaligned(as: SIMD16<Int8>.self))
        let lanes = wa &* qa &+ wb &* qb
        return fma(acc, toFloat(lanes), d)
    }

    /// `out[b · outStride + r] = W[r] · x[b]` for the rows in `rows` and every activation row.
    static func rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,
                     rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* blockBytes
        for r in rows {
            let wr = w.data + r &* rowBytes
            for b in 0..<batch {
                out[b &* outStride &+ r] = dot(wr, x.int8Row(b), x.scaleRow(b), blocks: x.blocks)
            }
        }
    }
}
