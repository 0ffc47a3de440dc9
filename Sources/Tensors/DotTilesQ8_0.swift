// Generated (one text template per tile shape, unrolled by a small script): edit all three DotTiles files alike.
//
// Register tiles for the quantized dot products: R weight rows x T activation rows per pass, so a weight block is
// unpacked once for T tokens and an activation block is loaded once for R rows. Every output element accumulates
// its blocks in the order llama.cpp's x86 kernel for the type does (see scripts/gen-dot-tiles.py), identical in
// every tile shape, so results do not depend on how rows and tokens were grouped and agree with llama.cpp's bits.

extension DotQ8_0 {
    /// 4 rows x 4 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile4x4(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let w1 = w + (r0 &+ 1) &* rowBytes
        let w2 = w + (r0 &+ 2) &* rowBytes
        let w3 = w + (r0 &+ 3) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        let x1 = x.int16Row(t0 &+ 1), s1 = x.scaleRow(t0 &+ 1)
        let x2 = x.int16Row(t0 &+ 2), s2 = x.scaleRow(t0 &+ 2)
        let x3 = x.int16Row(t0 &+ 3), s3 = x.scaleRow(t0 &+ 3)
        var a00 = SIMD8<Float>()
        var a01 = SIMD8<Float>()
        var a02 = SIMD8<Float>()
        var a03 = SIMD8<Float>()
        var a10 = SIMD8<Float>()
        var a11 = SIMD8<Float>()
        var a12 = SIMD8<Float>()
        var a13 = SIMD8<Float>()
        var a20 = SIMD8<Float>()
        var a21 = SIMD8<Float>()
        var a22 = SIMD8<Float>()
        var a23 = SIMD8<Float>()
        var a30 = SIMD8<Float>()
        var a31 = SIMD8<Float>()
        var a32 = SIMD8<Float>()
        var a33 = SIMD8<Float>()
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 34
            let d0 = loadHalfWide(k0)
            let q0 = SIMD32<Int16>(lowHalf: widen((k0 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k0 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k1 = w1 + b &* 34
            let d1 = loadHalfWide(k1)
            let q1 = SIMD32<Int16>(lowHalf: widen((k1 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k1 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k2 = w2 + b &* 34
            let d2 = loadHalfWide(k2)
            let q2 = SIMD32<Int16>(lowHalf: widen((k2 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k2 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k3 = w3 + b &* 34
            let d3 = loadHalfWide(k3)
            let q3 = SIMD32<Int16>(lowHalf: widen((k3 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k3 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let xv1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e1 = s1[b]
            let xv2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e2 = s2[b]
            let xv3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e3 = s3[b]
            a00 = fma(a00, quadSumsQ8(q0, xv0), d0 * e0)
            a01 = fma(a01, quadSumsQ8(q0, xv1), d0 * e1)
            a02 = fma(a02, quadSumsQ8(q0, xv2), d0 * e2)
            a03 = fma(a03, quadSumsQ8(q0, xv3), d0 * e3)
            a10 = fma(a10, quadSumsQ8(q1, xv0), d1 * e0)
            a11 = fma(a11, quadSumsQ8(q1, xv1), d1 * e1)
            a12 = fma(a12, quadSumsQ8(q1, xv2), d1 * e2)
            a13 = fma(a13, quadSumsQ8(q1, xv3), d1 * e3)
            a20 = fma(a20, quadSumsQ8(q2, xv0), d2 * e0)
            a21 = fma(a21, quadSumsQ8(q2, xv1), d2 * e1)
            a22 = fma(a22, quadSumsQ8(q2, xv2), d2 * e2)
            a23 = fma(a23, quadSumsQ8(q2, xv3), d2 * e3)
            a30 = fma(a30, quadSumsQ8(q3, xv0), d3 * e0)
            a31 = fma(a31, quadSumsQ8(q3, xv1), d3 * e1)
            a32 = fma(a32, quadSumsQ8(q3, xv2), d3 * e2)
            a33 = fma(a33, quadSumsQ8(q3, xv3), d3 * e3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00)
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = treeSum(a01)
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = treeSum(a02)
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = treeSum(a03)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1] = treeSum(a10)
        out[(t0 &+ 1) &* outStride &+ r0 &+ 1] = treeSum(a11)
        out[(t0 &+ 2) &* outStride &+ r0 &+ 1] = treeSum(a12)
        out[(t0 &+ 3) &* outStride &+ r0 &+ 1] = treeSum(a13)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2] = treeSum(a20)
        out[(t0 &+ 1) &* outStride &+ r0 &+ 2] = treeSum(a21)
        out[(t0 &+ 2) &* outStride &+ r0 &+ 2] = treeSum(a22)
        out[(t0 &+ 3) &* outStride &+ r0 &+ 2] = treeSum(a23)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3] = treeSum(a30)
        out[(t0 &+ 1) &* outStride &+ r0 &+ 3] = treeSum(a31)
        out[(t0 &+ 2) &* outStride &+ r0 &+ 3] = treeSum(a32)
        out[(t0 &+ 3) &* outStride &+ r0 &+ 3] = treeSum(a33)
    }

    /// 4 rows x 1 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile4x1(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int, rowStep: Int = 1) {
        let w0 = w + (r0 &+ 0 &* rowStep) &* rowBytes
        let w1 = w + (r0 &+ 1 &* rowStep) &* rowBytes
        let w2 = w + (r0 &+ 2 &* rowStep) &* rowBytes
        let w3 = w + (r0 &+ 3 &* rowStep) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        var a00 = SIMD8<Float>()
        var a10 = SIMD8<Float>()
        var a20 = SIMD8<Float>()
        var a30 = SIMD8<Float>()
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 34
            let d0 = loadHalfWide(k0)
            let q0 = SIMD32<Int16>(lowHalf: widen((k0 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k0 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k1 = w1 + b &* 34
            let d1 = loadHalfWide(k1)
            let q1 = SIMD32<Int16>(lowHalf: widen((k1 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k1 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k2 = w2 + b &* 34
            let d2 = loadHalfWide(k2)
            let q2 = SIMD32<Int16>(lowHalf: widen((k2 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k2 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let k3 = w3 + b &* 34
            let d3 = loadHalfWide(k3)
            let q3 = SIMD32<Int16>(lowHalf: widen((k3 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k3 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            a00 = fma(a00, quadSumsQ8(q0, xv0), d0 * e0)
            a10 = fma(a10, quadSumsQ8(q1, xv0), d1 * e0)
            a20 = fma(a20, quadSumsQ8(q2, xv0), d2 * e0)
            a30 = fma(a30, quadSumsQ8(q3, xv0), d3 * e0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0 &* rowStep] = treeSum(a00)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1 &* rowStep] = treeSum(a10)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2 &* rowStep] = treeSum(a20)
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3 &* rowStep] = treeSum(a30)
    }

    /// 1 rows x 4 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile1x4(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        let x1 = x.int16Row(t0 &+ 1), s1 = x.scaleRow(t0 &+ 1)
        let x2 = x.int16Row(t0 &+ 2), s2 = x.scaleRow(t0 &+ 2)
        let x3 = x.int16Row(t0 &+ 3), s3 = x.scaleRow(t0 &+ 3)
        var a00 = SIMD8<Float>()
        var a01 = SIMD8<Float>()
        var a02 = SIMD8<Float>()
        var a03 = SIMD8<Float>()
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 34
            let d0 = loadHalfWide(k0)
            let q0 = SIMD32<Int16>(lowHalf: widen((k0 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k0 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let xv1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e1 = s1[b]
            let xv2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e2 = s2[b]
            let xv3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e3 = s3[b]
            a00 = fma(a00, quadSumsQ8(q0, xv0), d0 * e0)
            a01 = fma(a01, quadSumsQ8(q0, xv1), d0 * e1)
            a02 = fma(a02, quadSumsQ8(q0, xv2), d0 * e2)
            a03 = fma(a03, quadSumsQ8(q0, xv3), d0 * e3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00)
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = treeSum(a01)
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = treeSum(a02)
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = treeSum(a03)
    }

    /// 1 rows x 1 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile1x1(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        var a00 = SIMD8<Float>()
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 34
            let d0 = loadHalfWide(k0)
            let q0 = SIMD32<Int16>(lowHalf: widen((k0 + 2).loadUnaligned(as: SIMD16<Int8>.self)),
                                    highHalf: widen((k0 + 18).loadUnaligned(as: SIMD16<Int8>.self)))
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            a00 = fma(a00, quadSumsQ8(q0, xv0), d0 * e0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00)
    }

    /// `out[t · outStride + r] = W[r] · x[t]` for the rows in `rows` and every token, in 4x4 tiles with 4x1, 1x4
    /// and 1x1 tiles for the edges; tokens go in chunks of 64 so their activations stay in cache across rows.
    static func rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,
                     rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* 34
        if batch < 4 {
            // Mat-vec: 4 independent accumulator chains, one in each 4th of the rows, so that each one
            // reads its weights as one ascending stream (rows side by side defeat the prefetcher on
            // DRAM-resident weights); the rest one row at a time.
            let part = rows.count / 4
            for t in 0..<batch {
                for r in rows.lowerBound..<(rows.lowerBound &+ part) {
                    tile4x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t, rowStep: part)
                }
                for r in (rows.lowerBound &+ 4 &* part)..<rows.upperBound {
                    tile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
                }
            }
            return
        }
        var chunk = 0
        while chunk < batch {
            let chunkEnd = min(batch, chunk &+ 64)
            var r = rows.lowerBound
            while r < rows.upperBound {
                // Row tiles only pay when tokens share them: with fewer than 4 tokens, one row at a time keeps the
                // weight reads sequential (interleaved rows defeat the prefetcher on DRAM-resident weights, 10x).
                let fourRows = chunkEnd &- chunk >= 4 && r &+ 4 <= rows.upperBound
                var t = chunk
                while t < chunkEnd {
                    let fourTokens = t &+ 4 <= chunkEnd
                    if fourRows && fourTokens {
                        tile4x4(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
                        t &+= 4
                    } else if fourRows {
                        tile4x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
                        t &+= 1
                    } else if fourTokens {
                        tile1x4(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
                        t &+= 4
                    } else {
                        tile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
                        t &+= 1
                    }
                }
                r &+= fourRows ? 4 : 1
            }
            chunk = chunkEnd
        }
    }
}
