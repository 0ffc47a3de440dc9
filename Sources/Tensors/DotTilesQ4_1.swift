// Generated (one text template per tile shape, unrolled by a small script): edit all three DotTiles files alike.
//
// Register tiles for the quantized dot products: R weight rows x T activation rows per pass, so a weight block is
// unpacked once for T tokens and an activation block is loaded once for R rows. Every output element accumulates
// its blocks in the order llama.cpp's x86 kernel for the type does (see scripts/gen-dot-tiles.py), identical in
// every tile shape, so results do not depend on how rows and tokens were grouped and agree with llama.cpp's bits.

extension DotQ4_1 {
    /// 4 rows x 4 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile4x4(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let w1 = w + (r0 &+ 1) &* rowBytes
        let w2 = w + (r0 &+ 2) &* rowBytes
        let w3 = w + (r0 &+ 3) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        let u0 = x.sumRow(t0 &+ 0)
        let x1 = x.int16Row(t0 &+ 1), s1 = x.scaleRow(t0 &+ 1)
        let u1 = x.sumRow(t0 &+ 1)
        let x2 = x.int16Row(t0 &+ 2), s2 = x.scaleRow(t0 &+ 2)
        let u2 = x.sumRow(t0 &+ 2)
        let x3 = x.int16Row(t0 &+ 3), s3 = x.scaleRow(t0 &+ 3)
        let u3 = x.sumRow(t0 &+ 3)
        var a00 = SIMD8<Float>()
        var m00: Float = 0
        var a01 = SIMD8<Float>()
        var m01: Float = 0
        var a02 = SIMD8<Float>()
        var m02: Float = 0
        var a03 = SIMD8<Float>()
        var m03: Float = 0
        var a10 = SIMD8<Float>()
        var m10: Float = 0
        var a11 = SIMD8<Float>()
        var m11: Float = 0
        var a12 = SIMD8<Float>()
        var m12: Float = 0
        var a13 = SIMD8<Float>()
        var m13: Float = 0
        var a20 = SIMD8<Float>()
        var m20: Float = 0
        var a21 = SIMD8<Float>()
        var m21: Float = 0
        var a22 = SIMD8<Float>()
        var m22: Float = 0
        var a23 = SIMD8<Float>()
        var m23: Float = 0
        var a30 = SIMD8<Float>()
        var m30: Float = 0
        var a31 = SIMD8<Float>()
        var m31: Float = 0
        var a32 = SIMD8<Float>()
        var m32: Float = 0
        var a33 = SIMD8<Float>()
        var m33: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 20
            let (d0, n0) = loadHalfPair(k0)
            let y0 = (k0 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F), hi0 = widen(y0 &>> 4)
            let q0 = SIMD32<Int16>(lowHalf: lo0, highHalf: hi0)
            let k1 = w1 + b &* 20
            let (d1, n1) = loadHalfPair(k1)
            let y1 = (k1 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo1 = widen(y1 & 0x0F), hi1 = widen(y1 &>> 4)
            let q1 = SIMD32<Int16>(lowHalf: lo1, highHalf: hi1)
            let k2 = w2 + b &* 20
            let (d2, n2) = loadHalfPair(k2)
            let y2 = (k2 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo2 = widen(y2 & 0x0F), hi2 = widen(y2 &>> 4)
            let q2 = SIMD32<Int16>(lowHalf: lo2, highHalf: hi2)
            let k3 = w3 + b &* 20
            let (d3, n3) = loadHalfPair(k3)
            let y3 = (k3 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo3 = widen(y3 & 0x0F), hi3 = widen(y3 &>> 4)
            let q3 = SIMD32<Int16>(lowHalf: lo3, highHalf: hi3)
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let v0 = u0[b]
            let xv1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e1 = s1[b]
            let v1 = u1[b]
            let xv2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e2 = s2[b]
            let v2 = u2[b]
            let xv3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e3 = s3[b]
            let v3 = u3[b]
            a00 = fma(a00, quadSums(q0, xv0), d0 * e0)
            m00 = m00.addingProduct(n0, v0)
            a01 = fma(a01, quadSums(q0, xv1), d0 * e1)
            m01 = m01.addingProduct(n0, v1)
            a02 = fma(a02, quadSums(q0, xv2), d0 * e2)
            m02 = m02.addingProduct(n0, v2)
            a03 = fma(a03, quadSums(q0, xv3), d0 * e3)
            m03 = m03.addingProduct(n0, v3)
            a10 = fma(a10, quadSums(q1, xv0), d1 * e0)
            m10 = m10.addingProduct(n1, v0)
            a11 = fma(a11, quadSums(q1, xv1), d1 * e1)
            m11 = m11.addingProduct(n1, v1)
            a12 = fma(a12, quadSums(q1, xv2), d1 * e2)
            m12 = m12.addingProduct(n1, v2)
            a13 = fma(a13, quadSums(q1, xv3), d1 * e3)
            m13 = m13.addingProduct(n1, v3)
            a20 = fma(a20, quadSums(q2, xv0), d2 * e0)
            m20 = m20.addingProduct(n2, v0)
            a21 = fma(a21, quadSums(q2, xv1), d2 * e1)
            m21 = m21.addingProduct(n2, v1)
            a22 = fma(a22, quadSums(q2, xv2), d2 * e2)
            m22 = m22.addingProduct(n2, v2)
            a23 = fma(a23, quadSums(q2, xv3), d2 * e3)
            m23 = m23.addingProduct(n2, v3)
            a30 = fma(a30, quadSums(q3, xv0), d3 * e0)
            m30 = m30.addingProduct(n3, v0)
            a31 = fma(a31, quadSums(q3, xv1), d3 * e1)
            m31 = m31.addingProduct(n3, v1)
            a32 = fma(a32, quadSums(q3, xv2), d3 * e2)
            m32 = m32.addingProduct(n3, v2)
            a33 = fma(a33, quadSums(q3, xv3), d3 * e3)
            m33 = m33.addingProduct(n3, v3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00) + m00
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = treeSum(a01) + m01
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = treeSum(a02) + m02
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = treeSum(a03) + m03
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1] = treeSum(a10) + m10
        out[(t0 &+ 1) &* outStride &+ r0 &+ 1] = treeSum(a11) + m11
        out[(t0 &+ 2) &* outStride &+ r0 &+ 1] = treeSum(a12) + m12
        out[(t0 &+ 3) &* outStride &+ r0 &+ 1] = treeSum(a13) + m13
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2] = treeSum(a20) + m20
        out[(t0 &+ 1) &* outStride &+ r0 &+ 2] = treeSum(a21) + m21
        out[(t0 &+ 2) &* outStride &+ r0 &+ 2] = treeSum(a22) + m22
        out[(t0 &+ 3) &* outStride &+ r0 &+ 2] = treeSum(a23) + m23
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3] = treeSum(a30) + m30
        out[(t0 &+ 1) &* outStride &+ r0 &+ 3] = treeSum(a31) + m31
        out[(t0 &+ 2) &* outStride &+ r0 &+ 3] = treeSum(a32) + m32
        out[(t0 &+ 3) &* outStride &+ r0 &+ 3] = treeSum(a33) + m33
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
        let u0 = x.sumRow(t0 &+ 0)
        var a00 = SIMD8<Float>()
        var m00: Float = 0
        var a10 = SIMD8<Float>()
        var m10: Float = 0
        var a20 = SIMD8<Float>()
        var m20: Float = 0
        var a30 = SIMD8<Float>()
        var m30: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 20
            let (d0, n0) = loadHalfPair(k0)
            let y0 = (k0 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F), hi0 = widen(y0 &>> 4)
            let q0 = SIMD32<Int16>(lowHalf: lo0, highHalf: hi0)
            let k1 = w1 + b &* 20
            let (d1, n1) = loadHalfPair(k1)
            let y1 = (k1 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo1 = widen(y1 & 0x0F), hi1 = widen(y1 &>> 4)
            let q1 = SIMD32<Int16>(lowHalf: lo1, highHalf: hi1)
            let k2 = w2 + b &* 20
            let (d2, n2) = loadHalfPair(k2)
            let y2 = (k2 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo2 = widen(y2 & 0x0F), hi2 = widen(y2 &>> 4)
            let q2 = SIMD32<Int16>(lowHalf: lo2, highHalf: hi2)
            let k3 = w3 + b &* 20
            let (d3, n3) = loadHalfPair(k3)
            let y3 = (k3 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo3 = widen(y3 & 0x0F), hi3 = widen(y3 &>> 4)
            let q3 = SIMD32<Int16>(lowHalf: lo3, highHalf: hi3)
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let v0 = u0[b]
            a00 = fma(a00, quadSums(q0, xv0), d0 * e0)
            m00 = m00.addingProduct(n0, v0)
            a10 = fma(a10, quadSums(q1, xv0), d1 * e0)
            m10 = m10.addingProduct(n1, v0)
            a20 = fma(a20, quadSums(q2, xv0), d2 * e0)
            m20 = m20.addingProduct(n2, v0)
            a30 = fma(a30, quadSums(q3, xv0), d3 * e0)
            m30 = m30.addingProduct(n3, v0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0 &* rowStep] = treeSum(a00) + m00
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1 &* rowStep] = treeSum(a10) + m10
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2 &* rowStep] = treeSum(a20) + m20
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3 &* rowStep] = treeSum(a30) + m30
    }

    /// 1 rows x 4 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile1x4(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        let u0 = x.sumRow(t0 &+ 0)
        let x1 = x.int16Row(t0 &+ 1), s1 = x.scaleRow(t0 &+ 1)
        let u1 = x.sumRow(t0 &+ 1)
        let x2 = x.int16Row(t0 &+ 2), s2 = x.scaleRow(t0 &+ 2)
        let u2 = x.sumRow(t0 &+ 2)
        let x3 = x.int16Row(t0 &+ 3), s3 = x.scaleRow(t0 &+ 3)
        let u3 = x.sumRow(t0 &+ 3)
        var a00 = SIMD8<Float>()
        var m00: Float = 0
        var a01 = SIMD8<Float>()
        var m01: Float = 0
        var a02 = SIMD8<Float>()
        var m02: Float = 0
        var a03 = SIMD8<Float>()
        var m03: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 20
            let (d0, n0) = loadHalfPair(k0)
            let y0 = (k0 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F), hi0 = widen(y0 &>> 4)
            let q0 = SIMD32<Int16>(lowHalf: lo0, highHalf: hi0)
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let v0 = u0[b]
            let xv1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e1 = s1[b]
            let v1 = u1[b]
            let xv2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e2 = s2[b]
            let v2 = u2[b]
            let xv3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e3 = s3[b]
            let v3 = u3[b]
            a00 = fma(a00, quadSums(q0, xv0), d0 * e0)
            m00 = m00.addingProduct(n0, v0)
            a01 = fma(a01, quadSums(q0, xv1), d0 * e1)
            m01 = m01.addingProduct(n0, v1)
            a02 = fma(a02, quadSums(q0, xv2), d0 * e2)
            m02 = m02.addingProduct(n0, v2)
            a03 = fma(a03, quadSums(q0, xv3), d0 * e3)
            m03 = m03.addingProduct(n0, v3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00) + m00
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = treeSum(a01) + m01
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = treeSum(a02) + m02
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = treeSum(a03) + m03
    }

    /// 1 rows x 1 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile1x1(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + (r0 &+ 0) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        let u0 = x.sumRow(t0 &+ 0)
        var a00 = SIMD8<Float>()
        var m00: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 20
            let (d0, n0) = loadHalfPair(k0)
            let y0 = (k0 + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F), hi0 = widen(y0 &>> 4)
            let q0 = SIMD32<Int16>(lowHalf: lo0, highHalf: hi0)
            let xv0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)
            let e0 = s0[b]
            let v0 = u0[b]
            a00 = fma(a00, quadSums(q0, xv0), d0 * e0)
            m00 = m00.addingProduct(n0, v0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = treeSum(a00) + m00
    }

    /// `out[t · outStride + r] = W[r] · x[t]` for the rows in `rows` and every token, in 4x4 tiles with 4x1, 1x4
    /// and 1x1 tiles for the edges; tokens go in chunks of 64 so their activations stay in cache across rows.
    static func rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,
                     rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* 20
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
