// Generated (one text template per tile shape, unrolled by a small script): edit all three DotTiles files alike.
//
// Register tiles for the quantized dot products: R weight rows x T activation rows per pass, so a weight block is
// unpacked once for T tokens and an activation block is loaded once for R rows. Every output element accumulates
// its blocks in the order llama.cpp's x86 kernel for the type does (see scripts/gen-dot-tiles.py), identical in
// every tile shape, so results do not depend on how rows and tokens were grouped and agree with llama.cpp's bits.

extension DotQ4_0 {
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
        var a00: Float = 0
        var a01: Float = 0
        var a02: Float = 0
        var a03: Float = 0
        var a10: Float = 0
        var a11: Float = 0
        var a12: Float = 0
        var a13: Float = 0
        var a20: Float = 0
        var a21: Float = 0
        var a22: Float = 0
        var a23: Float = 0
        var a30: Float = 0
        var a31: Float = 0
        var a32: Float = 0
        var a33: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 18
            let d0 = loadHalf(k0)
            let y0 = (k0 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F) &- 8, hi0 = widen(y0 &>> 4) &- 8
            let k1 = w1 + b &* 18
            let d1 = loadHalf(k1)
            let y1 = (k1 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo1 = widen(y1 & 0x0F) &- 8, hi1 = widen(y1 &>> 4) &- 8
            let k2 = w2 + b &* 18
            let d2 = loadHalf(k2)
            let y2 = (k2 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo2 = widen(y2 & 0x0F) &- 8, hi2 = widen(y2 &>> 4) &- 8
            let k3 = w3 + b &* 18
            let d3 = loadHalf(k3)
            let y3 = (k3 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo3 = widen(y3 & 0x0F) &- 8, hi3 = widen(y3 &>> 4) &- 8
            let xa0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb0 = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e0 = s0[b]
            let xa1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb1 = UnsafeRawPointer(x1 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e1 = s1[b]
            let xa2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb2 = UnsafeRawPointer(x2 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e2 = s2[b]
            let xa3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb3 = UnsafeRawPointer(x3 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e3 = s3[b]
            a00 = a00.addingProduct(Float(blockSum(lo0 &* xa0 &+ hi0 &* xb0)), d0 * e0)
            a01 = a01.addingProduct(Float(blockSum(lo0 &* xa1 &+ hi0 &* xb1)), d0 * e1)
            a02 = a02.addingProduct(Float(blockSum(lo0 &* xa2 &+ hi0 &* xb2)), d0 * e2)
            a03 = a03.addingProduct(Float(blockSum(lo0 &* xa3 &+ hi0 &* xb3)), d0 * e3)
            a10 = a10.addingProduct(Float(blockSum(lo1 &* xa0 &+ hi1 &* xb0)), d1 * e0)
            a11 = a11.addingProduct(Float(blockSum(lo1 &* xa1 &+ hi1 &* xb1)), d1 * e1)
            a12 = a12.addingProduct(Float(blockSum(lo1 &* xa2 &+ hi1 &* xb2)), d1 * e2)
            a13 = a13.addingProduct(Float(blockSum(lo1 &* xa3 &+ hi1 &* xb3)), d1 * e3)
            a20 = a20.addingProduct(Float(blockSum(lo2 &* xa0 &+ hi2 &* xb0)), d2 * e0)
            a21 = a21.addingProduct(Float(blockSum(lo2 &* xa1 &+ hi2 &* xb1)), d2 * e1)
            a22 = a22.addingProduct(Float(blockSum(lo2 &* xa2 &+ hi2 &* xb2)), d2 * e2)
            a23 = a23.addingProduct(Float(blockSum(lo2 &* xa3 &+ hi2 &* xb3)), d2 * e3)
            a30 = a30.addingProduct(Float(blockSum(lo3 &* xa0 &+ hi3 &* xb0)), d3 * e0)
            a31 = a31.addingProduct(Float(blockSum(lo3 &* xa1 &+ hi3 &* xb1)), d3 * e1)
            a32 = a32.addingProduct(Float(blockSum(lo3 &* xa2 &+ hi3 &* xb2)), d3 * e2)
            a33 = a33.addingProduct(Float(blockSum(lo3 &* xa3 &+ hi3 &* xb3)), d3 * e3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = a00
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = a01
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = a02
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = a03
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1] = a10
        out[(t0 &+ 1) &* outStride &+ r0 &+ 1] = a11
        out[(t0 &+ 2) &* outStride &+ r0 &+ 1] = a12
        out[(t0 &+ 3) &* outStride &+ r0 &+ 1] = a13
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2] = a20
        out[(t0 &+ 1) &* outStride &+ r0 &+ 2] = a21
        out[(t0 &+ 2) &* outStride &+ r0 &+ 2] = a22
        out[(t0 &+ 3) &* outStride &+ r0 &+ 2] = a23
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3] = a30
        out[(t0 &+ 1) &* outStride &+ r0 &+ 3] = a31
        out[(t0 &+ 2) &* outStride &+ r0 &+ 3] = a32
        out[(t0 &+ 3) &* outStride &+ r0 &+ 3] = a33
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
        var a00: Float = 0
        var a10: Float = 0
        var a20: Float = 0
        var a30: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 18
            let d0 = loadHalf(k0)
            let y0 = (k0 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F) &- 8, hi0 = widen(y0 &>> 4) &- 8
            let k1 = w1 + b &* 18
            let d1 = loadHalf(k1)
            let y1 = (k1 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo1 = widen(y1 & 0x0F) &- 8, hi1 = widen(y1 &>> 4) &- 8
            let k2 = w2 + b &* 18
            let d2 = loadHalf(k2)
            let y2 = (k2 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo2 = widen(y2 & 0x0F) &- 8, hi2 = widen(y2 &>> 4) &- 8
            let k3 = w3 + b &* 18
            let d3 = loadHalf(k3)
            let y3 = (k3 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo3 = widen(y3 & 0x0F) &- 8, hi3 = widen(y3 &>> 4) &- 8
            let xa0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb0 = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e0 = s0[b]
            a00 = a00.addingProduct(Float(blockSum(lo0 &* xa0 &+ hi0 &* xb0)), d0 * e0)
            a10 = a10.addingProduct(Float(blockSum(lo1 &* xa0 &+ hi1 &* xb0)), d1 * e0)
            a20 = a20.addingProduct(Float(blockSum(lo2 &* xa0 &+ hi2 &* xb0)), d2 * e0)
            a30 = a30.addingProduct(Float(blockSum(lo3 &* xa0 &+ hi3 &* xb0)), d3 * e0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0 &* rowStep] = a00
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1 &* rowStep] = a10
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2 &* rowStep] = a20
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3 &* rowStep] = a30
    }

    /// 8 rows x 1 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile8x1(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int, rowStep: Int = 1) {
        let w0 = w + (r0 &+ 0 &* rowStep) &* rowBytes
        let w1 = w + (r0 &+ 1 &* rowStep) &* rowBytes
        let w2 = w + (r0 &+ 2 &* rowStep) &* rowBytes
        let w3 = w + (r0 &+ 3 &* rowStep) &* rowBytes
        let w4 = w + (r0 &+ 4 &* rowStep) &* rowBytes
        let w5 = w + (r0 &+ 5 &* rowStep) &* rowBytes
        let w6 = w + (r0 &+ 6 &* rowStep) &* rowBytes
        let w7 = w + (r0 &+ 7 &* rowStep) &* rowBytes
        let x0 = x.int16Row(t0 &+ 0), s0 = x.scaleRow(t0 &+ 0)
        var a00: Float = 0
        var a10: Float = 0
        var a20: Float = 0
        var a30: Float = 0
        var a40: Float = 0
        var a50: Float = 0
        var a60: Float = 0
        var a70: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 18
            let d0 = loadHalf(k0)
            let y0 = (k0 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F) &- 8, hi0 = widen(y0 &>> 4) &- 8
            let k1 = w1 + b &* 18
            let d1 = loadHalf(k1)
            let y1 = (k1 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo1 = widen(y1 & 0x0F) &- 8, hi1 = widen(y1 &>> 4) &- 8
            let k2 = w2 + b &* 18
            let d2 = loadHalf(k2)
            let y2 = (k2 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo2 = widen(y2 & 0x0F) &- 8, hi2 = widen(y2 &>> 4) &- 8
            let k3 = w3 + b &* 18
            let d3 = loadHalf(k3)
            let y3 = (k3 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo3 = widen(y3 & 0x0F) &- 8, hi3 = widen(y3 &>> 4) &- 8
            let k4 = w4 + b &* 18
            let d4 = loadHalf(k4)
            let y4 = (k4 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo4 = widen(y4 & 0x0F) &- 8, hi4 = widen(y4 &>> 4) &- 8
            let k5 = w5 + b &* 18
            let d5 = loadHalf(k5)
            let y5 = (k5 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo5 = widen(y5 & 0x0F) &- 8, hi5 = widen(y5 &>> 4) &- 8
            let k6 = w6 + b &* 18
            let d6 = loadHalf(k6)
            let y6 = (k6 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo6 = widen(y6 & 0x0F) &- 8, hi6 = widen(y6 &>> 4) &- 8
            let k7 = w7 + b &* 18
            let d7 = loadHalf(k7)
            let y7 = (k7 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo7 = widen(y7 & 0x0F) &- 8, hi7 = widen(y7 &>> 4) &- 8
            let xa0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb0 = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e0 = s0[b]
            a00 = a00.addingProduct(Float(blockSum(lo0 &* xa0 &+ hi0 &* xb0)), d0 * e0)
            a10 = a10.addingProduct(Float(blockSum(lo1 &* xa0 &+ hi1 &* xb0)), d1 * e0)
            a20 = a20.addingProduct(Float(blockSum(lo2 &* xa0 &+ hi2 &* xb0)), d2 * e0)
            a30 = a30.addingProduct(Float(blockSum(lo3 &* xa0 &+ hi3 &* xb0)), d3 * e0)
            a40 = a40.addingProduct(Float(blockSum(lo4 &* xa0 &+ hi4 &* xb0)), d4 * e0)
            a50 = a50.addingProduct(Float(blockSum(lo5 &* xa0 &+ hi5 &* xb0)), d5 * e0)
            a60 = a60.addingProduct(Float(blockSum(lo6 &* xa0 &+ hi6 &* xb0)), d6 * e0)
            a70 = a70.addingProduct(Float(blockSum(lo7 &* xa0 &+ hi7 &* xb0)), d7 * e0)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0 &* rowStep] = a00
        out[(t0 &+ 0) &* outStride &+ r0 &+ 1 &* rowStep] = a10
        out[(t0 &+ 0) &* outStride &+ r0 &+ 2 &* rowStep] = a20
        out[(t0 &+ 0) &* outStride &+ r0 &+ 3 &* rowStep] = a30
        out[(t0 &+ 0) &* outStride &+ r0 &+ 4 &* rowStep] = a40
        out[(t0 &+ 0) &* outStride &+ r0 &+ 5 &* rowStep] = a50
        out[(t0 &+ 0) &* outStride &+ r0 &+ 6 &* rowStep] = a60
        out[(t0 &+ 0) &* outStride &+ r0 &+ 7 &* rowStep] = a70
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
        var a00: Float = 0
        var a01: Float = 0
        var a02: Float = 0
        var a03: Float = 0
        for b in 0..<x.blocks {
            let k0 = w0 + b &* 18
            let d0 = loadHalf(k0)
            let y0 = (k0 + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo0 = widen(y0 & 0x0F) &- 8, hi0 = widen(y0 &>> 4) &- 8
            let xa0 = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb0 = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e0 = s0[b]
            let xa1 = UnsafeRawPointer(x1 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb1 = UnsafeRawPointer(x1 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e1 = s1[b]
            let xa2 = UnsafeRawPointer(x2 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb2 = UnsafeRawPointer(x2 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e2 = s2[b]
            let xa3 = UnsafeRawPointer(x3 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb3 = UnsafeRawPointer(x3 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            let e3 = s3[b]
            a00 = a00.addingProduct(Float(blockSum(lo0 &* xa0 &+ hi0 &* xb0)), d0 * e0)
            a01 = a01.addingProduct(Float(blockSum(lo0 &* xa1 &+ hi0 &* xb1)), d0 * e1)
            a02 = a02.addingProduct(Float(blockSum(lo0 &* xa2 &+ hi0 &* xb2)), d0 * e2)
            a03 = a03.addingProduct(Float(blockSum(lo0 &* xa3 &+ hi0 &* xb3)), d0 * e3)
        }
        out[(t0 &+ 0) &* outStride &+ r0 &+ 0] = a00
        out[(t0 &+ 1) &* outStride &+ r0 &+ 0] = a01
        out[(t0 &+ 2) &* outStride &+ r0 &+ 0] = a02
        out[(t0 &+ 3) &* outStride &+ r0 &+ 0] = a03
    }

    /// 1 rows x 1 tokens starting at row `r0` and token `t0`.
    @inline(never)  // each tile gets its own register allocation
    static func tile1x1(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                          outStride: Int, r0: Int, t0: Int) {
        let w0 = w + r0 &* rowBytes
        let x0 = x.int16Row(t0), s0 = x.scaleRow(t0)
        var acc: Float = 0
        @inline(__always) func lanes(_ b: Int) -> SIMD16<Int16> {
            let y = (w0 + (b &* 18 &+ 2)).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = widen(y & 0x0F) &- 8, hi = widen(y &>> 4) &- 8
            let xa = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)
            let xb = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)
            return lo &* xa &+ hi &* xb
        }
        var b = 0
        while b &+ 4 <= x.blocks {
            let sums = blockSums(lanes(b), lanes(b &+ 1), lanes(b &+ 2), lanes(b &+ 3))
            for k in 0..<4 {
                acc = acc.addingProduct(sums[k], loadHalf(w0 + (b &+ k) &* 18) * s0[b &+ k])
            }
            b &+= 4
        }
        while b < x.blocks {
            acc = acc.addingProduct(Float(blockSum(lanes(b))), loadHalf(w0 + b &* 18) * s0[b])
            b &+= 1
        }
        out[t0 &* outStride &+ r0] = acc
    }

    /// `out[t · outStride + r] = W[r] · x[t]` for the rows in `rows` and every token, in 4x4 tiles with 4x1, 1x4
    /// and 1x1 tiles for the edges; tokens go in chunks of 64 so their activations stay in cache across rows.
    static func rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,
                     rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* 18
        if batch < 4 {
            // Mat-vec: 8 independent accumulator chains, one in each 8th of the rows, so that each one
            // reads its weights as one ascending stream (rows side by side defeat the prefetcher on
            // DRAM-resident weights); the rest one row at a time.
            let part = rows.count / 8
            for t in 0..<batch {
                for r in rows.lowerBound..<(rows.lowerBound &+ part) {
                    tile8x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t, rowStep: part)
                }
                for r in (rows.lowerBound &+ 8 &* part)..<rows.upperBound {
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
