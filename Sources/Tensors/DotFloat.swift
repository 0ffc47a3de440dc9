import Foundation
import X86Intrinsics
/// F32, F16 and BF16 weights · float activations (already rounded to the weight's precision by `ActivationQuant`,
/// so the products are those of llama.cpp's `ggml_vec_dot_f16`/`_bf16`, accumulated in f32), summed in the order
/// of llama.cpp's kernel for the batch size so that the results agree bit for bit.
enum DotFloat {
    /// Loads 16 weights starting at element `i` as floats.
    @inline(__always)
    static func load(_ type: WeightKind, _ w: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        switch type {
        case .f32: return (w + i &* 4).loadUnaligned(as: SIMD16<Float>.self)
        case .f16: return toFloat((w + i &* 2).loadUnaligned(as: SIMD16<Float16>.self))
        case .bf16: return bf16ToFloat((w + i &* 2).loadUnaligned(as: SIMD16<UInt16>.self))
        }
    }

    /// One weight at element `i` as a float.
    @inline(__always)
    static func scalar(_ type: WeightKind, _ w: UnsafeRawPointer, _ i: Int) -> Float {
        switch type {
        case .f32: return (w + i &* 4).loadUnaligned(as: Float.self)
        case .f16: return Float((w + i &* 2).loadUnaligned(as: Float16.self))
        case .bf16: return Float(bitPattern: UInt32((w + i &* 2).loadUnaligned(as: UInt16.self)) << 16)
        }
    }

    /// One weight row · one activation row of `cols` elements in the order of ggml's `ggml_vec_dot_f16`/`_f32`
    /// (llama.cpp's kernel for one token): four 16-lane accumulators over chunks of 64, reduced as
    /// `(a0 + a2) + (a1 + a3)` and then tree-summed; the leftover elements are added one by one.
    @inline(__always)
    static func dot(_ type: WeightKind, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, cols: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i &+ 64 <= cols {
            a0 = fma(a0, load(type, w, i), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self))
            a1 = fma(a1, load(type, w, i &+ 16),
                     xr.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self))
            a2 = fma(a2, load(type, w, i &+ 32),
                     xr.loadUnaligned(fromByteOffset: (i &+ 32) &* 4, as: SIMD16<Float>.self))
            a3 = fma(a3, load(type, w, i &+ 48),
                     xr.loadUnaligned(fromByteOffset: (i &+ 48) &* 4, as: SIMD16<Float>.self))
            i &+= 64
        }
        return total(type, (a0, a1, a2, a3), w, x, from: i, cols: cols)
    }

    /// The end of `dot`: the four accumulators reduced as `(a0 + a2) + (a1 + a3)` and tree-summed, then the
    /// elements from `i` on added one by one (in Double, as ggml does).
    @inline(__always)
    static func total(_ type: WeightKind, _ acc: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>),
                      _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, from i: Int, cols: Int) -> Float {
        var sum = Double(treeSum((acc.0 + acc.2) + (acc.1 + acc.3)))
        var k = i
        while k < cols {
            sum += Double(scalar(type, w, k) * x[k])
            k &+= 1
        }
        return Float(sum)
    }

    /// `dot` for the four rows at `w`, `w + step`, `w + 2 step`, `w + 3 step`, side by side (each in `dot`'s
    /// order), written to `out[0]`, `out[outStep]`, ...; each stream asks for its lines `prefetchDistance` ahead.
    @_transparent  // as `rowsOf`: with @inline(__always) it stayed one function, the kind's switch in its loop
    static func dot4(_ type: WeightKind, _ w: UnsafeRawPointer, step: Int, _ x: UnsafePointer<Float>, cols: Int,
                     _ out: UnsafeMutablePointer<Float>, outStep: Int) {
        let w0 = w, w1 = w + step, w2 = w + 2 &* step, w3 = w + 3 &* step
        var a = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var c = a, d = a, e = a  // rows 1, 2, 3; the tuple index is dot's accumulator
        let xr = UnsafeRawPointer(x)
        let lineBytes = 64 &* type.bytes  // weight bytes per row and step of 64 columns
        var i = 0
        while i &+ 64 <= cols {
            var l = 0
            while l < lineBytes {
                let o = i &* type.bytes &+ l &+ prefetchDistance
                prefetch(w0 + o); prefetch(w1 + o); prefetch(w2 + o); prefetch(w3 + o)
                l &+= 64
            }
            let v0 = xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let v1 = xr.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            let v2 = xr.loadUnaligned(fromByteOffset: (i &+ 32) &* 4, as: SIMD16<Float>.self)
            let v3 = xr.loadUnaligned(fromByteOffset: (i &+ 48) &* 4, as: SIMD16<Float>.self)
            a = (fma(a.0, load(type, w0, i), v0), fma(a.1, load(type, w0, i &+ 16), v1),
                 fma(a.2, load(type, w0, i &+ 32), v2), fma(a.3, load(type, w0, i &+ 48), v3))
            c = (fma(c.0, load(type, w1, i), v0), fma(c.1, load(type, w1, i &+ 16), v1),
                 fma(c.2, load(type, w1, i &+ 32), v2), fma(c.3, load(type, w1, i &+ 48), v3))
            d = (fma(d.0, load(type, w2, i), v0), fma(d.1, load(type, w2, i &+ 16), v1),
                 fma(d.2, load(type, w2, i &+ 32), v2), fma(d.3, load(type, w2, i &+ 48), v3))
            e = (fma(e.0, load(type, w3, i), v0), fma(e.1, load(type, w3, i &+ 16), v1),
                 fma(e.2, load(type, w3, i &+ 32), v2), fma(e.3, load(type, w3, i &+ 48), v3))
            i &+= 64
        }
        out[0] = total(type, a, w0, x, from: i, cols: cols)
        out[outStep] = total(type, c, w1, x, from: i, cols: cols)
        out[2 &* outStep] = total(type, d, w2, x, from: i, cols: cols)
        out[3 &* outStep] = total(type, e, w3, x, from: i, cols: cols)
    }

    /// The same product in the order of llamafile's tinyBLAS (llama.cpp's kernel for two or more tokens): one
    /// 16-lane accumulator over the row, then tree-summed. `cols` must be a multiple of 16.
    @inline(__always)
    static func dotBatched(_ type: WeightKind, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, cols: Int) -> Float {
        var a = SIMD16<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i &+ 16 <= cols {
            a = fma(a, load(type, w, i), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self))
            i &+= 16
        }
        return treeSum(a)
    }

    /// `dotBatched` for 4 weight rows (from `w`, `rowBytes` apart) x tokens `t0..<t0+4`, written to
    /// `out[t · outStride + r]` relative to the first output.
    @inline(__always)
    static func tile4x4(_ type: WeightKind, _ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ t0: Int,
                        _ out: UnsafeMutablePointer<Float>, outStride: Int, folds: Ops.FoldIndices) {
        let x0 = UnsafeRawPointer(x.floatRow(t0)), x1 = UnsafeRawPointer(x.floatRow(t0 &+ 1))
        let x2 = UnsafeRawPointer(x.floatRow(t0 &+ 2)), x3 = UnsafeRawPointer(x.floatRow(t0 &+ 3))
        var a = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var c = a, d = a, e = a  // rows 1, 2, 3; the tuple index is the token
        var i = 0
        while i &+ 16 <= x.cols {
            let v0 = x0.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let v1 = x1.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let v2 = x2.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let v3 = x3.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let w0 = load(type, w, i)
            a = (fma(a.0, w0, v0), fma(a.1, w0, v1), fma(a.2, w0, v2), fma(a.3, w0, v3))
            let w1 = load(type, w + rowBytes, i)
            c = (fma(c.0, w1, v0), fma(c.1, w1, v1), fma(c.2, w1, v2), fma(c.3, w1, v3))
            let w2 = load(type, w + 2 &* rowBytes, i)
            d = (fma(d.0, w2, v0), fma(d.1, w2, v1), fma(d.2, w2, v2), fma(d.3, w2, v3))
            let w3 = load(type, w + 3 &* rowBytes, i)
            e = (fma(e.0, w3, v0), fma(e.1, w3, v1), fma(e.2, w3, v2), fma(e.3, w3, v3))
            i &+= 16
        }
        #if SHIMMY_AVX512VNNI
        // the 16 tree sums side by side (the attention's transposed reduction, each step the lanes `treeSum` pairs
        // for two vectors at once): ~45 instructions where 16 `treeSum`s took ~130, 15% of a 576-column tile. (Only
        // where the lane permute is one instruction: the portable build's loop version made the tile too big to
        // inline.)
        let sums = folds.fold(folds.reduce8(a.0, c.0, d.0, e.0, a.1, c.1, d.1, e.1),
                              folds.reduce8(a.2, c.2, d.2, e.2, a.3, c.3, d.3, e.3), 3)  // lane 4t + r: row r, token t
        UnsafeMutableRawPointer(out).storeBytes(of: sums.lowHalf.lowHalf, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out + outStride).storeBytes(of: sums.lowHalf.highHalf, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out + 2 &* outStride).storeBytes(of: sums.highHalf.lowHalf, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out + 3 &* outStride).storeBytes(of: sums.highHalf.highHalf, as: SIMD4<Float>.self)
        #else
        @inline(__always) func store(_ r: Int, _ acc: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)) {
            out[r] = treeSum(acc.0)
            out[outStride &+ r] = treeSum(acc.1)
            out[2 &* outStride &+ r] = treeSum(acc.2)
            out[3 &* outStride &+ r] = treeSum(acc.3)
        }
        store(0, a)
        store(1, c)
        store(2, d)
        store(3, e)
        #endif
    }

    /// `dotBatched` for 2 rows of f32 weights (from `w`, `rowBytes` apart) x tokens `t0..<t0+8`, over columns
    /// `from..<to` (multiples of 16): the sixteen sums start at zero when `from` is 0 and from `partial` otherwise;
    /// they are written to `out[t · outStride + r]` (relative to the first output) when `to` ends the row, and left
    /// in `partial` otherwise. Each chain sees the same FMAs in the same order however the row is cut.
    @inline(__always)
    static func tile2x8(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ t0: Int, from: Int, to: Int,
                        partial: UnsafeMutablePointer<SIMD16<Float>>, _ out: UnsafeMutablePointer<Float>,
                        outStride: Int, folds: Ops.FoldIndices) {
        let xs = UnsafeRawPointer(x.floatRow(t0))
        let xStride = x.cols &* 4  // bytes from one token's row to the next
        var p = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(),
                 SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var q = p  // row 1; the tuple index is the token
        if from != 0 {
            p = (partial[0], partial[1], partial[2], partial[3], partial[4], partial[5], partial[6], partial[7])
            q = (partial[8], partial[9], partial[10], partial[11], partial[12], partial[13], partial[14], partial[15])
        }
        var i = from
        while i &+ 16 <= to {
            let w0 = w.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let w1 = w.loadUnaligned(fromByteOffset: rowBytes &+ i &* 4, as: SIMD16<Float>.self)
            @inline(__always) func v(_ t: Int) -> SIMD16<Float> {
                xs.loadUnaligned(fromByteOffset: t &* xStride &+ i &* 4, as: SIMD16<Float>.self)
            }
            let v0 = v(0), v1 = v(1), v2 = v(2), v3 = v(3)
            p.0 = fma(p.0, w0, v0); q.0 = fma(q.0, w1, v0)
            p.1 = fma(p.1, w0, v1); q.1 = fma(q.1, w1, v1)
            p.2 = fma(p.2, w0, v2); q.2 = fma(q.2, w1, v2)
            p.3 = fma(p.3, w0, v3); q.3 = fma(q.3, w1, v3)
            let v4 = v(4), v5 = v(5), v6 = v(6), v7 = v(7)
            p.4 = fma(p.4, w0, v4); q.4 = fma(q.4, w1, v4)
            p.5 = fma(p.5, w0, v5); q.5 = fma(q.5, w1, v5)
            p.6 = fma(p.6, w0, v6); q.6 = fma(q.6, w1, v6)
            p.7 = fma(p.7, w0, v7); q.7 = fma(q.7, w1, v7)
            i &+= 16
        }
        if to < x.cols {
            partial[0] = p.0; partial[1] = p.1; partial[2] = p.2; partial[3] = p.3
            partial[4] = p.4; partial[5] = p.5; partial[6] = p.6; partial[7] = p.7
            partial[8] = q.0; partial[9] = q.1; partial[10] = q.2; partial[11] = q.3
            partial[12] = q.4; partial[13] = q.5; partial[14] = q.6; partial[15] = q.7
            return
        }
        #if SHIMMY_AVX512VNNI
        // lane 2t + r: row r, token t
        let sums = folds.fold(folds.reduce8(p.0, q.0, p.1, q.1, p.2, q.2, p.3, q.3),
                              folds.reduce8(p.4, q.4, p.5, q.5, p.6, q.6, p.7, q.7), 3)
        @inline(__always) func store(_ t: Int, _ pair: SIMD2<Float>) {
            UnsafeMutableRawPointer(out + t &* outStride).storeBytes(of: pair, as: SIMD2<Float>.self)
        }
        store(0, SIMD2(sums[0], sums[1])); store(1, SIMD2(sums[2], sums[3]))
        store(2, SIMD2(sums[4], sums[5])); store(3, SIMD2(sums[6], sums[7]))
        store(4, SIMD2(sums[8], sums[9])); store(5, SIMD2(sums[10], sums[11]))
        store(6, SIMD2(sums[12], sums[13])); store(7, SIMD2(sums[14], sums[15]))
        #else
        @inline(__always) func store(_ t: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
            out[t &* outStride] = treeSum(a)
            out[t &* outStride &+ 1] = treeSum(b)
        }
        store(0, p.0, q.0); store(1, p.1, q.1); store(2, p.2, q.2); store(3, p.3, q.3)
        store(4, p.4, q.4); store(5, p.5, q.5); store(6, p.6, q.6); store(7, p.7, q.7)
        #endif
    }

    /// Rows per block in `tiles2x8`, and the most columns a pass of a 2x8 tile takes.
    static let blockRows = 32, chunkColumns = 768

    /// The rows in `rows` x tokens `0..<tokens` (a multiple of 8) in 2x8 tiles, block by block of `blockRows`
    /// rows: F16 rows are converted to f32 once per block for all the tokens, where each tile would convert them
    /// once per 8 tokens (a `vcvtph2ps` is two uops on the FMA ports). Rows longer than `chunkColumns` are taken
    /// in passes of that many columns, so the 8 tokens' activations of a pass stay in L1 (8 x 768 x 4 = 24 KB; a
    /// whole 1536-column row of 8 tokens is 48 KB); the sums wait in memory between passes.
    static func tiles2x8(_ type: WeightKind, _ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                         outStride: Int, rows: Range<Int>, tokens: Int) {
        let cols = x.cols
        let rowBytes = cols &* type.bytes
        let folds = Ops.FoldIndices(hidden: UInt32(truncatingIfNeeded: rowBytes &>> 48))  // 0
        let converted = type == .f16 ? blockRows &* cols / 16 : 0
        // on the stack: 196 KB for 32 rows of 1536 columns, 1 KB of sums per pair of rows
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: converted &+ blockRows / 2 &* 16) { buffer in
            guard let base = buffer.baseAddress else { return }
            let partials = base + converted
            var start = rows.lowerBound
            while start < rows.upperBound {
                let block = start..<min(rows.upperBound, start &+ blockRows)
                start = block.upperBound
                var weights = w.data + block.lowerBound &* rowBytes
                if type == .f16 {
                    var i = 0
                    while i < block.count &* cols {
                        base[i / 16] = load(.f16, weights, i)
                        i &+= 16
                    }
                    weights = UnsafeRawPointer(base)
                }
                let f32RowBytes = cols &* 4
                let pairs = block.count / 2
                var t = 0
                while t < tokens {
                    var from = 0
                    while from < cols {
                        let to = min(cols, from &+ chunkColumns)
                        for pair in 0..<pairs {
                            let r = block.lowerBound &+ 2 &* pair
                            tile2x8(weights + 2 &* pair &* f32RowBytes, rowBytes: f32RowBytes, x, t, from: from, to: to,
                                    partial: partials + 16 &* pair, out + (t &* outStride &+ r), outStride: outStride,
                                    folds: folds)
                        }
                        from = to
                    }
                    t &+= 8
                }
                if pairs &* 2 < block.count {  // an odd last row
                    let r = block.upperBound &- 1
                    for t in 0..<tokens {
                        out[t &* outStride &+ r] = dotBatched(type, w.data + r &* rowBytes, x.floatRow(t), cols: cols)
                    }
                }
            }
        }
    }

    /// `out[b · outStride + r] = W[r] · x[b]` for the rows in `rows` and every activation row.
    static func rows(_ type: WeightKind, _ tiles: FloatTiles, _ w: WeightMatrix, _ x: ActivationRows,
                     _ out: UnsafeMutablePointer<Float>, outStride: Int, rows: Range<Int>, batch: Int) {
        // A constant kind per call below lets each copy of the loop drop the switch in `load`.
        switch type {
        case .f32: rowsOf(.f32, tiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .f16: rowsOf(.f16, tiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .bf16: rowsOf(.bf16, tiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        }
    }

    @_transparent  // one copy per kind in `rows`: with @inline(__always) LLVM kept one copy with the kind's switch
    // inside the tile loop (a branch per 16 columns and spilled row pointers)
    static func rowsOf(_ type: WeightKind, _ tiles: FloatTiles, _ w: WeightMatrix, _ x: ActivationRows,
                       _ out: UnsafeMutablePointer<Float>, outStride: Int, rows: Range<Int>, batch: Int) {
        let rowBytes = x.cols &* type.bytes
        // llama.cpp hands batches of two or more tokens to tinyBLAS when the row length allows it (BF16 takes
        // other instructions there; it keeps the one-token order)
        if batch >= 2 && x.cols % 16 == 0 && type != .bf16 {
            // Tiles of 2 rows x 8 tokens while 8 tokens are left, then of 4 rows x 4 tokens: sixteen independent
            // chains either way; each output keeps dotBatched's order, so edges computed one at a time agree bit for
            // bit. In the 2x8 tile each weight vector feeds eight FMAs instead of four: F16 pp512 at 1 thread, 8
            // interleaved runs on this session's Xeon, median 292 -> 340 t/s (`KernelBench gemm`, best of 6:
            // 576-column shapes +10-35%, 1536 columns +3%). Blocks of F16 rows converted once for all the tokens
            // (`tiles2x8`): 16 interleaved runs, median 316 -> 352 t/s (2 threads level, 608 -> 622). On the
            // EPYC (Zen 5) the 4x4 tiles alone are faster: see `FloatTiles`.
            let tiled = tiles == .blocks2x8 ? batch / 8 &* 8 : 0
            if tiled > 0 { tiles2x8(type, w, x, out, outStride: outStride, rows: rows, tokens: tiled) }
            // The reduction's permute indices with a zero LLVM cannot see: with constant ones it rewrote the
            // permutes into ~150 narrow shuffles per tile.
            let folds = Ops.FoldIndices(hidden: UInt32(truncatingIfNeeded: rowBytes &>> 48))  // 0
            var b = tiled
            while b &+ 4 <= batch {
                var r = rows.lowerBound
                while r &+ 4 <= rows.upperBound {
                    tile4x4(type, w.data + r &* rowBytes, rowBytes: rowBytes, x, b, out + (b &* outStride &+ r),
                            outStride: outStride, folds: folds)
                    r &+= 4
                }
                while r < rows.upperBound {
                    let wr = w.data + r &* rowBytes
                    for t in b..<(b &+ 4) {
                        out[t &* outStride &+ r] = dotBatched(type, wr, x.floatRow(t), cols: x.cols)
                    }
                    r &+= 1
                }
                b &+= 4
            }
            for r in rows where b < batch {
                let wr = w.data + r &* rowBytes
                for t in b..<batch { out[t &* outStride &+ r] = dotBatched(type, wr, x.floatRow(t), cols: x.cols) }
            }
            return
        }
        if batch == 1 {
            // one token (generation) reads each weight once, from memory: four ascending streams, one in each
            // quarter of the rows, as the quantized mat-vecs read theirs, each asking for its lines
            // `prefetchDistance` ahead. One row at a time with a 4.5 KB lookahead left a Xeon core (~12 GB/s from
            // memory in a C loop) at ~9 GB/s: F16 tg128 medians of 6 interleaved runs at 1 / 2 threads 38.6 / 73
            // -> 50.0 / 90 t/s. Each row keeps `dot`'s order.
            let part = rows.count / 4
            let x0 = x.floatRow(0)
            for r in rows.lowerBound..<(rows.lowerBound &+ part) {
                dot4(type, w.data + r &* rowBytes, step: part &* rowBytes, x0, cols: x.cols, out + r, outStep: part)
            }
            for r in (rows.lowerBound &+ 4 &* part)..<rows.upperBound {
                let wr = w.data + r &* rowBytes
                Ops.prefetchLines(wr + prefetchDistance, bytes: min(rowBytes, prefetchDistance))
                out[r] = dot(type, wr, x0, cols: x.cols)
            }
            return
        }
        for r in rows {
            let wr = w.data + r &* rowBytes
            for b in 0..<batch {
                out[b &* outStride &+ r] = dot(type, wr, x.floatRow(b), cols: x.cols)
            }
        }
    }

}

/// How F16 and F32 prompt batches (two or more tokens) are tiled. Every output keeps tinyBLAS's order either way,
/// so both give the same bits; which is faster depends on the core.
public enum FloatTiles: Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 2 rows x 8 tokens over blocks of 32 rows, F16 rows converted to f32 once per block (`DotFloat.tiles2x8`),
    /// then 4x4 tiles for the tokens left over. On the Intel Xeon of the benchmarks (where a zmm `vcvtph2ps` is two
    /// uops on the FMA ports) each step measured faster: F16 pp512 at 1 thread 292 -> 340 t/s for the 2x8 tile over
    /// the 4x4 one, then 316 -> 352 for the row blocks (medians of interleaved runs).
    case blocks2x8
    /// 4 rows x 4 tokens (`DotFloat.tile4x4`), F16 weights converted in the tile. On the AMD EPYC (Zen 5) of the
    /// benchmarks, interleaved runs against `blocks2x8` (4 pairs): F16 pp512 medians 778 -> 847 t/s at 1 thread,
    /// 1484 -> 1684 at 2; F32 (3 pairs) 665 -> 753 and 1265 -> 1577.
    case tiles4x4

    /// `SHIMMY_FLOAT_TILES` when it names a plan (`4x4` or `2x8`, for measuring one against the other), else
    /// `tiles4x4` on AMD processors (and Hygon's, a Zen design) and `blocks2x8` on others: the two cores measured.
    public static let preferred = preferred(vendor: CPUInfo.vendorID,
                                            setting: ProcessInfo.processInfo.environment["SHIMMY_FLOAT_TILES"])

    static func preferred(vendor: String, setting: String? = nil) -> FloatTiles {
        if let plan = setting.flatMap(FloatTiles.init(name:)) { return plan }
        return vendor == "AuthenticAMD" || vendor == "HygonGenuine" ? .tiles4x4 : .blocks2x8
    }

    /// The plan named `name` in `SHIMMY_FLOAT_TILES` (`4x4`, `2x8`); nil for any other text.
    public init?(name: String) {
        guard let plan = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = plan
    }

    /// The plan's name in `SHIMMY_FLOAT_TILES`.
    public var name: String { self == .blocks2x8 ? "2x8" : "4x4" }

    public var description: String { self == .blocks2x8 ? "2x8 on blocks of rows (F16 converted once)" : "4x4" }
}

/// The float weight formats (the switch in `DotFloat.load` is resolved outside the loops after specialisation).
enum WeightKind {
    case f32, f16, bf16

    var bytes: Int { self == .f32 ? 4 : 2 }
}
