#if SHIMMY_AVX512VNNI
import X86Intrinsics
#endif

/// The attention products for a batch of queries, 16 positions at a time, in exactly the order of the one-position
/// loops they replace (see `Ops.attentionExact`): every score is still one 16-lane fused chain over the head
/// dimension and a tree sum, and every output value still 16 chains, lane l over positions l, l+16, ... The blocks
/// only keep 16 independent chains in registers, where one position at a time waited on each FMA's latency (scores)
/// or went through memory (values).
extension Ops {
    /// The scores of the 16 keys at `k`, `k + stride`, ... against the query `q` (`dimension` a multiple of 16),
    /// folded with the permute indices of `folds`.
    @_transparent  // inlined even where the optimizer declines (the portable build had kept calls)
    static func scores16(_ k: UnsafePointer<Float16>, stride: Int, _ q: UnsafePointer<Float>,
                         dimension: Int, folds: FoldIndices) -> SIMD16<Float> {
        // the last step of the tree sums pairs the two halves' lanes: lane j is then key j's score
        folds.fold(partialScores8(k, stride: stride, q, dimension: dimension, folds: folds),
                   partialScores8(k + 8 &* stride, stride: stride, q, dimension: dimension, folds: folds), 3)
    }

    /// Eight keys' 16-lane chains and the first three steps of their tree sums, side by side: each step adds, for
    /// every vector, the lanes `treeSum` pairs at that step ((l, l+8), then (l, l+4), (l, l+2)), two vectors' worth
    /// per result, so that lanes 2j and 2j+1 hold the two halves left of key j's sum. (Eight keys at a time: with 16
    /// the reduction ran out of registers.)
    @_transparent  // inlined even where the optimizer declines (the portable build had kept calls)
    static func partialScores8(_ k: UnsafePointer<Float16>, stride: Int, _ q: UnsafePointer<Float>,
                               dimension: Int, folds: FoldIndices) -> SIMD16<Float> {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
        var d = 0
        while d < dimension {
            let qv = UnsafeRawPointer(q + d).loadUnaligned(as: SIMD16<Float>.self)
            @inline(__always) func key(_ j: Int) -> SIMD16<Float> {
                widen(UnsafeRawPointer(k + (j &* stride &+ d)).loadUnaligned(as: SIMD16<Float16>.self))
            }
            a0 = fma(a0, key(0), qv); a1 = fma(a1, key(1), qv); a2 = fma(a2, key(2), qv); a3 = fma(a3, key(3), qv)
            a4 = fma(a4, key(4), qv); a5 = fma(a5, key(5), qv); a6 = fma(a6, key(6), qv); a7 = fma(a7, key(7), qv)
            d &+= 16
        }
        return folds.reduce8(a0, a1, a2, a3, a4, a5, a6, a7)
    }

    /// Lane i of the result: lane `index[i]` of the 32 lanes `a` then `b`.
    @_transparent  // inlined even where the optimizer declines (the portable build had kept calls)
    static func lanePermute(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ index: SIMD16<UInt32>) -> SIMD16<Float> {
        #if SHIMMY_AVX512VNNI
        return permute(a, b, index)
        #else
        var r = SIMD16<Float>()
        for i in 0..<16 { r[i] = index[i] < 16 ? a[Int(index[i])] : b[Int(index[i]) - 16] }
        return r
        #endif
    }

    /// `valueChains` for a head dimension that is a multiple of 64: the chains of 4 lanes for 64 values of the head
    /// in registers, so that each pass reads whole rows of 4 positions in 16 (128 bytes each) and every cache line of
    /// the values once, where one pass per 16 values read the same lines four times.
    @inline(__always)
    static func valueChains64(_ lanes: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>,
                              _ values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int) {
        let full = count & ~15
        var d = 0
        while d < dimension {
            var l = 0
            while l < 16 {
                var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
                var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
                var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
                var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
                var t = l
                while t < full {
                    @inline(__always) func row(_ j: Int, _ c: Int) -> SIMD16<Float> {
                        widen(UnsafeRawPointer(values + ((t &+ j) &* stride &+ d &+ 16 &* c))
                            .loadUnaligned(as: SIMD16<Float16>.self))
                    }
                    let p0 = SIMD16<Float>(repeating: p[t]), p1 = SIMD16<Float>(repeating: p[t &+ 1])
                    let p2 = SIMD16<Float>(repeating: p[t &+ 2]), p3 = SIMD16<Float>(repeating: p[t &+ 3])
                    a00 = fma(a00, row(0, 0), p0); a01 = fma(a01, row(0, 1), p0)
                    a02 = fma(a02, row(0, 2), p0); a03 = fma(a03, row(0, 3), p0)
                    a10 = fma(a10, row(1, 0), p1); a11 = fma(a11, row(1, 1), p1)
                    a12 = fma(a12, row(1, 2), p1); a13 = fma(a13, row(1, 3), p1)
                    a20 = fma(a20, row(2, 0), p2); a21 = fma(a21, row(2, 1), p2)
                    a22 = fma(a22, row(2, 2), p2); a23 = fma(a23, row(2, 3), p2)
                    a30 = fma(a30, row(3, 0), p3); a31 = fma(a31, row(3, 1), p3)
                    a32 = fma(a32, row(3, 2), p3); a33 = fma(a33, row(3, 3), p3)
                    t &+= 16
                }
                @inline(__always) func store(_ j: Int, _ c: Int, _ a: SIMD16<Float>) {
                    UnsafeMutableRawPointer(lanes + ((l &+ j) &* dimension &+ d &+ 16 &* c))
                        .storeBytes(of: a, as: SIMD16<Float>.self)
                }
                store(0, 0, a00); store(0, 1, a01); store(0, 2, a02); store(0, 3, a03)
                store(1, 0, a10); store(1, 1, a11); store(1, 2, a12); store(1, 3, a13)
                store(2, 0, a20); store(2, 1, a21); store(2, 2, a22); store(2, 3, a23)
                store(3, 0, a30); store(3, 1, a31); store(3, 2, a32); store(3, 3, a33)
                l &+= 4
            }
            d &+= 64
        }
    }

    /// `scores16` for three queries at once (the query heads of a KV group share the keys): each key is converted
    /// from half precision once for the three. Same chains and sums as `scores16`.
    @_transparent  // inlined even where the optimizer declines (the portable build had kept calls)
    static func scores16x3(_ k: UnsafePointer<Float16>, stride: Int, _ q0: UnsafePointer<Float>,
                           _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>,
                           dimension: Int, folds: FoldIndices) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let low = partialScores8x3(k, stride: stride, q0, q1, q2, dimension: dimension, folds: folds)
        let high = partialScores8x3(k + 8 &* stride, stride: stride, q0, q1, q2, dimension: dimension, folds: folds)
        return (folds.fold(low.0, high.0, 3), folds.fold(low.1, high.1, 3), folds.fold(low.2, high.2, 3))
    }

    /// `partialScores8` for three queries, the eight keys converted once.
    @_transparent  // inlined even where the optimizer declines (the portable build had kept calls)
    static func partialScores8x3(_ k: UnsafePointer<Float16>, stride: Int, _ q0: UnsafePointer<Float>,
                                 _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>,
                                 dimension: Int, folds: FoldIndices) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a04 = SIMD16<Float>(), a05 = SIMD16<Float>(), a06 = SIMD16<Float>(), a07 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a14 = SIMD16<Float>(), a15 = SIMD16<Float>(), a16 = SIMD16<Float>(), a17 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a24 = SIMD16<Float>(), a25 = SIMD16<Float>(), a26 = SIMD16<Float>(), a27 = SIMD16<Float>()
        var d = 0
        while d < dimension {
            let r0 = UnsafeRawPointer(q0 + d).loadUnaligned(as: SIMD16<Float>.self)
            let r1 = UnsafeRawPointer(q1 + d).loadUnaligned(as: SIMD16<Float>.self)
            let r2 = UnsafeRawPointer(q2 + d).loadUnaligned(as: SIMD16<Float>.self)
            @inline(__always) func key(_ j: Int) -> SIMD16<Float> {
                widen(UnsafeRawPointer(k + (j &* stride &+ d)).loadUnaligned(as: SIMD16<Float16>.self))
            }
            let k0 = key(0); a00 = fma(a00, k0, r0); a10 = fma(a10, k0, r1); a20 = fma(a20, k0, r2)
            let k1 = key(1); a01 = fma(a01, k1, r0); a11 = fma(a11, k1, r1); a21 = fma(a21, k1, r2)
            let k2 = key(2); a02 = fma(a02, k2, r0); a12 = fma(a12, k2, r1); a22 = fma(a22, k2, r2)
            let k3 = key(3); a03 = fma(a03, k3, r0); a13 = fma(a13, k3, r1); a23 = fma(a23, k3, r2)
            let k4 = key(4); a04 = fma(a04, k4, r0); a14 = fma(a14, k4, r1); a24 = fma(a24, k4, r2)
            let k5 = key(5); a05 = fma(a05, k5, r0); a15 = fma(a15, k5, r1); a25 = fma(a25, k5, r2)
            let k6 = key(6); a06 = fma(a06, k6, r0); a16 = fma(a16, k6, r1); a26 = fma(a26, k6, r2)
            let k7 = key(7); a07 = fma(a07, k7, r0); a17 = fma(a17, k7, r1); a27 = fma(a27, k7, r2)
            d &+= 16
        }
        return (folds.reduce8(a00, a01, a02, a03, a04, a05, a06, a07),
                folds.reduce8(a10, a11, a12, a13, a14, a15, a16, a17),
                folds.reduce8(a20, a21, a22, a23, a24, a25, a26, a27))
    }

    /// `valueChains64` for three heads' probabilities over the same values (the query heads of a KV group): each
    /// value row is converted once for the three; 2 lanes x 64 values x 3 heads of chains in registers per pass.
    @inline(__always)
    static func valueChains64x3(_ lanes: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                           UnsafeMutablePointer<Float>),
                                _ p: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                _ values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int) {
        let full = count & ~15
        var d = 0
        while d < dimension {
            var l = 0
            while l < 16 {
                var a000 = SIMD16<Float>(), a001 = SIMD16<Float>(), a002 = SIMD16<Float>(), a003 = SIMD16<Float>()
                var a010 = SIMD16<Float>(), a011 = SIMD16<Float>(), a012 = SIMD16<Float>(), a013 = SIMD16<Float>()
                var a100 = SIMD16<Float>(), a101 = SIMD16<Float>(), a102 = SIMD16<Float>(), a103 = SIMD16<Float>()
                var a110 = SIMD16<Float>(), a111 = SIMD16<Float>(), a112 = SIMD16<Float>(), a113 = SIMD16<Float>()
                var a200 = SIMD16<Float>(), a201 = SIMD16<Float>(), a202 = SIMD16<Float>(), a203 = SIMD16<Float>()
                var a210 = SIMD16<Float>(), a211 = SIMD16<Float>(), a212 = SIMD16<Float>(), a213 = SIMD16<Float>()
                var t = l
                while t < full {
                    @inline(__always) func row(_ j: Int, _ c: Int) -> SIMD16<Float> {
                        widen(UnsafeRawPointer(values + ((t &+ j) &* stride &+ d &+ 16 &* c))
                            .loadUnaligned(as: SIMD16<Float16>.self))
                    }
                    let s00 = SIMD16<Float>(repeating: p.0[t &+ 0]), s10 = SIMD16<Float>(repeating: p.1[t &+ 0])
                    let s20 = SIMD16<Float>(repeating: p.2[t &+ 0])
                    let v00 = row(0, 0); a000 = fma(a000, v00, s00)
                    a100 = fma(a100, v00, s10); a200 = fma(a200, v00, s20)
                    let v01 = row(0, 1); a001 = fma(a001, v01, s00)
                    a101 = fma(a101, v01, s10); a201 = fma(a201, v01, s20)
                    let v02 = row(0, 2); a002 = fma(a002, v02, s00)
                    a102 = fma(a102, v02, s10); a202 = fma(a202, v02, s20)
                    let v03 = row(0, 3); a003 = fma(a003, v03, s00)
                    a103 = fma(a103, v03, s10); a203 = fma(a203, v03, s20)
                    let s01 = SIMD16<Float>(repeating: p.0[t &+ 1]), s11 = SIMD16<Float>(repeating: p.1[t &+ 1])
                    let s21 = SIMD16<Float>(repeating: p.2[t &+ 1])
                    let v10 = row(1, 0); a010 = fma(a010, v10, s01)
                    a110 = fma(a110, v10, s11); a210 = fma(a210, v10, s21)
                    let v11 = row(1, 1); a011 = fma(a011, v11, s01)
                    a111 = fma(a111, v11, s11); a211 = fma(a211, v11, s21)
                    let v12 = row(1, 2); a012 = fma(a012, v12, s01)
                    a112 = fma(a112, v12, s11); a212 = fma(a212, v12, s21)
                    let v13 = row(1, 3); a013 = fma(a013, v13, s01)
                    a113 = fma(a113, v13, s11); a213 = fma(a213, v13, s21)
                    t &+= 16
                }
                @inline(__always) func store(_ lanes: UnsafeMutablePointer<Float>, _ j: Int,
                                             _ a: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)) {
                    let row = UnsafeMutableRawPointer(lanes + ((l &+ j) &* dimension &+ d))
                    row.storeBytes(of: a.0, as: SIMD16<Float>.self)
                    row.storeBytes(of: a.1, toByteOffset: 64, as: SIMD16<Float>.self)
                    row.storeBytes(of: a.2, toByteOffset: 128, as: SIMD16<Float>.self)
                    row.storeBytes(of: a.3, toByteOffset: 192, as: SIMD16<Float>.self)
                }
                store(lanes.0, 0, (a000, a001, a002, a003)); store(lanes.0, 1, (a010, a011, a012, a013))
                store(lanes.1, 0, (a100, a101, a102, a103)); store(lanes.1, 1, (a110, a111, a112, a113))
                store(lanes.2, 0, (a200, a201, a202, a203)); store(lanes.2, 1, (a210, a211, a212, a213))
                l &+= 2
            }
            d &+= 64
        }
    }

    /// `lanes[l · dimension + d]` = Σ over positions t ≡ l (mod 16) below `count & ~15`, in order, of p_t · v_t[d]:
    /// the chains of the output values, 16 of them in registers for each 16 values of the head.
    @inline(__always)
    static func valueChains(_ lanes: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>,
                            _ values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int) {
        let full = count & ~15
        var d = 0
        while d < dimension {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
            var a8 = SIMD16<Float>(), a9 = SIMD16<Float>(), a10 = SIMD16<Float>(), a11 = SIMD16<Float>()
            var a12 = SIMD16<Float>(), a13 = SIMD16<Float>(), a14 = SIMD16<Float>(), a15 = SIMD16<Float>()
            var t = 0
            while t < full {
                @inline(__always) func term(_ j: Int) -> (SIMD16<Float>, SIMD16<Float>) {
                    (widen(UnsafeRawPointer(values + ((t &+ j) &* stride &+ d)).loadUnaligned(as: SIMD16<Float16>.self)),
                     SIMD16(repeating: p[t &+ j]))
                }
                var (v, s) = term(0); a0 = fma(a0, v, s)
                (v, s) = term(1); a1 = fma(a1, v, s)
                (v, s) = term(2); a2 = fma(a2, v, s)
                (v, s) = term(3); a3 = fma(a3, v, s)
                (v, s) = term(4); a4 = fma(a4, v, s)
                (v, s) = term(5); a5 = fma(a5, v, s)
                (v, s) = term(6); a6 = fma(a6, v, s)
                (v, s) = term(7); a7 = fma(a7, v, s)
                (v, s) = term(8); a8 = fma(a8, v, s)
                (v, s) = term(9); a9 = fma(a9, v, s)
                (v, s) = term(10); a10 = fma(a10, v, s)
                (v, s) = term(11); a11 = fma(a11, v, s)
                (v, s) = term(12); a12 = fma(a12, v, s)
                (v, s) = term(13); a13 = fma(a13, v, s)
                (v, s) = term(14); a14 = fma(a14, v, s)
                (v, s) = term(15); a15 = fma(a15, v, s)
                t &+= 16
            }
            @inline(__always) func store(_ l: Int, _ a: SIMD16<Float>) {
                UnsafeMutableRawPointer(lanes + (l &* dimension &+ d)).storeBytes(of: a, as: SIMD16<Float>.self)
            }
            store(0, a0); store(1, a1); store(2, a2); store(3, a3); store(4, a4); store(5, a5); store(6, a6)
            store(7, a7); store(8, a8); store(9, a9); store(10, a10); store(11, a11); store(12, a12)
            store(13, a13); store(14, a14); store(15, a15)
            d &+= 16
        }
    }

    /// A batch query's scaled scores of the whole blocks of 16 keys below `count` (`scores16`), stored in
    /// `head.scores`; returns the lanes' maxima. A function of its own, as `oneQueryScoreBlocks` is.
    @inline(never)
    static func scoreBlocks(_ head: AttentionScratch, keys: UnsafePointer<Float16>, stride: Int, count: Int,
                            dimension: Int, scale: Float) -> SIMD16<Float> {
        var m = SIMD16<Float>(repeating: -.infinity)
        let folds = FoldIndices(hidden: UInt32(truncatingIfNeeded: stride &>> 48))  // 0
        var first = 0
        while first &+ 16 <= count {
            let s = scores16(keys + first &* stride, stride: stride, head.q, dimension: dimension, folds: folds)
            storeScores(s * scale, head, first, &m)
            first &+= 16
        }
        return m
    }

    /// `scoreBlocks` for the three query heads of a KV group (`scores16x3`; in the portable build `scoreBlocks`
    /// per head).
    @inline(never)
    static func scoreBlocks3(_ heads: (AttentionScratch, AttentionScratch, AttentionScratch),
                             keys: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int, scale: Float)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        #if !SHIMMY_AVX512VNNI
        // the portable lane permute is a loop; with three heads' worth of them the optimizer left the query loads
        // as calls, so each head is scored on its own there
        return (scoreBlocks(heads.0, keys: keys, stride: stride, count: count, dimension: dimension, scale: scale),
                scoreBlocks(heads.1, keys: keys, stride: stride, count: count, dimension: dimension, scale: scale),
                scoreBlocks(heads.2, keys: keys, stride: stride, count: count, dimension: dimension, scale: scale))
        #else
        var m0 = SIMD16<Float>(repeating: -.infinity), m1 = m0, m2 = m0
        let folds = FoldIndices(hidden: UInt32(truncatingIfNeeded: stride &>> 48))  // 0
        var first = 0
        while first &+ 16 <= count {
            let (s0, s1, s2) = scores16x3(keys + first &* stride, stride: stride, heads.0.q, heads.1.q, heads.2.q,
                                          dimension: dimension, folds: folds)
            storeScores(s0 * scale, heads.0, first, &m0)
            storeScores(s1 * scale, heads.1, first, &m1)
            storeScores(s2 * scale, heads.2, first, &m2)
            first &+= 16
        }
        return (m0, m1, m2)
        #endif
    }

    /// One query's scaled scores of the whole blocks of 16 keys below `count`, stored in `head.scores`, prefetching
    /// as it goes; returns the lanes' maxima (`scoresOneQuery16`). A function of its own: inside the attention,
    /// the optimizer had left the query loads as calls (in a build with testing enabled).
    @inline(never)
    static func oneQueryScoreBlocks(_ head: AttentionScratch, keys: UnsafePointer<Float16>,
                                    values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int,
                                    scale: Float) -> SIMD16<Float> {
        var m = SIMD16<Float>(repeating: -.infinity)
        let folds = FoldIndices(hidden: UInt32(truncatingIfNeeded: stride &>> 48))  // 0
        var first = 0
        while first &+ 16 <= count {
            let k = keys + first &* stride
            prefetchBlock(k, values + first &* stride, stride: stride, dimension: dimension)
            storeScores(scoresOneQuery16(k, stride: stride, head.q, dimension: dimension, folds: folds) * scale,
                        head, first, &m)
            first &+= 16
        }
        return m
    }

    /// `oneQueryScoreBlocks` for the three query heads of a KV group (`scoresOneQuery16x3`).
    @inline(never)
    static func oneQueryScoreBlocks3(_ heads: (AttentionScratch, AttentionScratch, AttentionScratch),
                                     keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>, stride: Int,
                                     count: Int, dimension: Int, scale: Float)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        var m0 = SIMD16<Float>(repeating: -.infinity), m1 = m0, m2 = m0
        let folds = FoldIndices(hidden: UInt32(truncatingIfNeeded: stride &>> 48))  // 0
        var first = 0
        while first &+ 16 <= count {
            let k = keys + first &* stride
            prefetchBlock(k, values + first &* stride, stride: stride, dimension: dimension)
            let (s0, s1, s2) = scoresOneQuery16x3(k, stride: stride, heads.0.q, heads.1.q, heads.2.q,
                                                  dimension: dimension, folds: folds)
            storeScores(s0 * scale, heads.0, first, &m0)
            storeScores(s1 * scale, heads.1, first, &m1)
            storeScores(s2 * scale, heads.2, first, &m2)
            first &+= 16
        }
        return (m0, m1, m2)
    }

    /// The scores of one query (a batch of one) against the 16 keys at `k`, `k + stride`, ...: `dotOneQuery`'s
    /// four chains and sums for each key (`dimension` a multiple of 64, where it has no leftovers), the tree sums of
    /// 16 keys side by side as in `scores16`, with the permute indices of `folds`.
    @_transparent
    static func scoresOneQuery16(_ k: UnsafePointer<Float16>, stride: Int, _ q: UnsafePointer<Float>,
                                 dimension: Int, folds: FoldIndices) -> SIMD16<Float> {
        @inline(__always) func eight(_ k: UnsafePointer<Float16>) -> SIMD16<Float> {
            @inline(__always) func key(_ j: Int) -> SIMD16<Float> {
                oneQueryLanes(k + j &* stride, q, dimension: dimension)
            }
            @inline(__always) func pair(_ j: Int) -> SIMD16<Float> { folds.fold(key(j), key(j &+ 1), 0) }
            return folds.fold(folds.fold(pair(0), pair(2), 1), folds.fold(pair(4), pair(6), 1), 2)
        }
        return folds.fold(eight(k), eight(k + 8 &* stride), 3)
    }

    /// `fold`'s permute indices for groups of 8, 4, 2 and 1 (steps 0 to 3), plus a zero that LLVM cannot see: with
    /// constant indices it rewrote the permutes of the one-query scores into many narrower shuffles.
    struct FoldIndices {
        let low: (SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>)
        let high: (SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>)
        /// The hidden zero in every lane, to add to other permute indices.
        let zero: SIMD16<UInt32>

        /// `hidden` must be 0.
        @inline(__always)
        init(hidden: UInt32) {
            @inline(__always) func indices(_ g: Int) -> (SIMD16<UInt32>, SIMD16<UInt32>) {
                var low = SIMD16<UInt32>(repeating: hidden)
                for i in 0..<16 { low[i] &+= UInt32(truncatingIfNeeded: (i / g) &* 2 &* g &+ i % g) }
                return (low, low &+ UInt32(truncatingIfNeeded: g))
            }
            zero = SIMD16<UInt32>(repeating: hidden)
            let (l8, h8) = indices(8), (l4, h4) = indices(4), (l2, h2) = indices(2), (l1, h1) = indices(1)
            low = (l8, l4, l2, l1)
            high = (h8, h4, h2, h1)
        }

        @_transparent
        func fold(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ step: Int) -> SIMD16<Float> {
            switch step {
            case 0: return lanePermute(a, b, low.0) + lanePermute(a, b, high.0)
            case 1: return lanePermute(a, b, low.1) + lanePermute(a, b, high.1)
            case 2: return lanePermute(a, b, low.2) + lanePermute(a, b, high.2)
            default: return lanePermute(a, b, low.3) + lanePermute(a, b, high.3)
            }
        }

        /// The first three tree-sum steps of eight vectors' lanes side by side (lanes 2j and 2j+1: the two halves
        /// left of vector j's sum).
        @_transparent
        func reduce8(_ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>, _ a3: SIMD16<Float>,
                     _ a4: SIMD16<Float>, _ a5: SIMD16<Float>, _ a6: SIMD16<Float>, _ a7: SIMD16<Float>)
            -> SIMD16<Float> {
            fold(fold(fold(a0, a1, 0), fold(a2, a3, 0), 1), fold(fold(a4, a5, 0), fold(a6, a7, 0), 1), 2)
        }
    }

    /// `scoresOneQuery16` for three queries against the same 16 keys (the query heads of a KV group): each key is
    /// converted from half precision once for the three. Same chains and sums.
    @_transparent
    static func scoresOneQuery16x3(_ k: UnsafePointer<Float16>, stride: Int, _ q0: UnsafePointer<Float>,
                                   _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>, dimension: Int,
                                   folds: FoldIndices) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        typealias Three = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
        @inline(__always) func fold(_ a: Three, _ b: Three, _ step: Int) -> Three {
            (folds.fold(a.0, b.0, step), folds.fold(a.1, b.1, step), folds.fold(a.2, b.2, step))
        }
        // key j's four chains for the three queries, added as ggml adds them
        @inline(__always) func key(_ j: Int) -> Three {
            let row = k + j &* stride
            var a = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>()), b = a, c = a
            var d = 0
            while d < dimension {
                @inline(__always) func half16(_ i: Int) -> SIMD16<Float> {
                    widen(UnsafeRawPointer(row + (d &+ 16 &* i)).loadUnaligned(as: SIMD16<Float16>.self))
                }
                @inline(__always) func q(_ q: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
                    UnsafeRawPointer(q + (d &+ 16 &* i)).loadUnaligned(as: SIMD16<Float>.self)
                }
                let k0 = half16(0), k1 = half16(1), k2 = half16(2), k3 = half16(3)
                a = (fma(a.0, k0, q(q0, 0)), fma(a.1, k1, q(q0, 1)), fma(a.2, k2, q(q0, 2)), fma(a.3, k3, q(q0, 3)))
                b = (fma(b.0, k0, q(q1, 0)), fma(b.1, k1, q(q1, 1)), fma(b.2, k2, q(q1, 2)), fma(b.3, k3, q(q1, 3)))
                c = (fma(c.0, k0, q(q2, 0)), fma(c.1, k1, q(q2, 1)), fma(c.2, k2, q(q2, 2)), fma(c.3, k3, q(q2, 3)))
                d &+= 64
            }
            return ((a.0 + a.2) + (a.1 + a.3), (b.0 + b.2) + (b.1 + b.3), (c.0 + c.2) + (c.1 + c.3))
        }
        // the tree sums of 16 keys side by side, folded as soon as two keys' (or groups') are ready
        @inline(__always) func pair(_ j: Int) -> Three { fold(key(j), key(j &+ 1), 0) }
        @inline(__always) func four(_ j: Int) -> Three { fold(pair(j), pair(j &+ 2), 1) }
        @inline(__always) func eight(_ j: Int) -> Three { fold(four(j), four(j &+ 4), 2) }
        return fold(eight(0), eight(8), 3)
    }

    /// ggml_vec_dot_f16's four accumulators of a key and the query, added as its reduction adds them
    /// ((a0 + a2) + (a1 + a3)), before the tree sum (`dimension` a multiple of 64).
    @_transparent
    static func oneQueryLanes(_ k: UnsafePointer<Float16>, _ q: UnsafePointer<Float>, dimension: Int) -> SIMD16<Float> {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var d = 0
        while d < dimension {
            @inline(__always) func product(_ acc: SIMD16<Float>, _ j: Int) -> SIMD16<Float> {
                fma(acc, widen(UnsafeRawPointer(k + (d &+ 16 &* j)).loadUnaligned(as: SIMD16<Float16>.self)),
                    UnsafeRawPointer(q + (d &+ 16 &* j)).loadUnaligned(as: SIMD16<Float>.self))
            }
            a0 = product(a0, 0); a1 = product(a1, 1); a2 = product(a2, 2); a3 = product(a3, 3)
            d &+= 64
        }
        return (a0 + a2) + (a1 + a3)
    }

    /// One query's output values (`dimension` a multiple of 64) as ggml_vec_dot_f16 computes each over the
    /// positions of the transposed value cache, padded with zero probabilities to whole chunks of 64: chain r of 64
    /// (accumulator r / 16, lane r % 16) adds p_t · v_t over positions t ≡ r (mod 64) in order; the four
    /// accumulators are added as (a0 + a2) + (a1 + a3) and the 16 lanes tree-summed. Chains without positions are
    /// zero and add nothing. Everything stays in registers: 64 values of the head at a time, each lane's chains
    /// reading its positions' rows (128 bytes) whole, every row once. A function of its own, called once per head.
    @inline(never)
    static func valuesOneQuery(_ out: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>,
                               _ values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int) {
        typealias Four = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
        @inline(__always) func add(_ a: Four, _ b: Four) -> Four { (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3) }
        var d = 0
        while d < dimension {
            // lane l's four chains (positions l, l + 16, l + 32, l + 48 of each chunk of 64) for 64 values, added
            @inline(__always) func lane(_ l: Int) -> Four {
                let zero = SIMD16<Float>()
                var a0: Four = (zero, zero, zero, zero), a1 = a0, a2 = a0, a3 = a0
                @inline(__always) func term(_ acc: inout Four, _ t: Int) {
                    let v = values + (t &* stride &+ d), s = SIMD16<Float>(repeating: p[t])
                    @inline(__always) func half16(_ c: Int) -> SIMD16<Float> {
                        widen(UnsafeRawPointer(v + 16 &* c).loadUnaligned(as: SIMD16<Float16>.self))
                    }
                    acc = (fma(acc.0, half16(0), s), fma(acc.1, half16(1), s), fma(acc.2, half16(2), s),
                           fma(acc.3, half16(3), s))
                }
                positions(l, count) { j, t in
                    switch j {
                    case 0: term(&a0, t)
                    case 1: term(&a1, t)
                    case 2: term(&a2, t)
                    default: term(&a3, t)
                    }
                }
                return add(add(a0, a2), add(a1, a3))
            }
            // the tree sum over lanes, as _mm512_reduce_add_ps pairs them: (l, l+8), (l, l+4), (l, l+2), (0, 1)
            @inline(__always) func half(_ l: Int) -> Four { add(lane(l), lane(l &+ 8)) }
            @inline(__always) func quarter(_ l: Int) -> Four { add(half(l), half(l &+ 4)) }
            @inline(__always) func eighth(_ l: Int) -> Four { add(quarter(l), quarter(l &+ 2)) }
            let sum = add(eighth(0), eighth(1))
            @inline(__always) func store(_ c: Int, _ v: SIMD16<Float>) {
                UnsafeMutableRawPointer(out + (d &+ 16 &* c)).storeBytes(of: v, as: SIMD16<Float>.self)
            }
            store(0, sum.0); store(1, sum.1); store(2, sum.2); store(3, sum.3)
            d &+= 64
        }
    }

    /// `valuesOneQuery` for the three query heads of a KV group, each value row converted from half precision once
    /// for the three: 32 values of the heads at a time (4 chains x 2 vectors x 3 heads in registers). Each head's
    /// result has `valuesOneQuery`'s bits. A function of its own, called once per KV group.
    @inline(never)
    static func valuesOneQuery3(_ out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                        UnsafeMutablePointer<Float>),
                                _ p: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                _ values: UnsafePointer<Float16>, stride: Int, count: Int, dimension: Int) {
        typealias Six = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
        @inline(__always) func add(_ a: Six, _ b: Six) -> Six {
            (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3, a.4 + b.4, a.5 + b.5)
        }
        var d = 0
        while d < dimension {
            // lane l's four chains for 32 values of each head (head h: vectors 2h, 2h + 1), added
            @inline(__always) func lane(_ l: Int) -> Six {
                let zero = SIMD16<Float>()
                var a0: Six = (zero, zero, zero, zero, zero, zero), a1 = a0, a2 = a0, a3 = a0
                @inline(__always) func term(_ acc: inout Six, _ t: Int) {
                    let v = values + (t &* stride &+ d)
                    let v0 = widen(UnsafeRawPointer(v).loadUnaligned(as: SIMD16<Float16>.self))
                    let v1 = widen(UnsafeRawPointer(v + 16).loadUnaligned(as: SIMD16<Float16>.self))
                    let s0 = SIMD16<Float>(repeating: p.0[t]), s1 = SIMD16<Float>(repeating: p.1[t])
                    let s2 = SIMD16<Float>(repeating: p.2[t])
                    acc = (fma(acc.0, v0, s0), fma(acc.1, v1, s0), fma(acc.2, v0, s1), fma(acc.3, v1, s1),
                           fma(acc.4, v0, s2), fma(acc.5, v1, s2))
                }
                positions(l, count) { j, t in
                    switch j {
                    case 0: term(&a0, t)
                    case 1: term(&a1, t)
                    case 2: term(&a2, t)
                    default: term(&a3, t)
                    }
                }
                return add(add(a0, a2), add(a1, a3))
            }
            @inline(__always) func half(_ l: Int) -> Six { add(lane(l), lane(l &+ 8)) }
            @inline(__always) func quarter(_ l: Int) -> Six { add(half(l), half(l &+ 4)) }
            @inline(__always) func eighth(_ l: Int) -> Six { add(quarter(l), quarter(l &+ 2)) }
            let sum = add(eighth(0), eighth(1))
            @inline(__always) func store(_ out: UnsafeMutablePointer<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
                UnsafeMutableRawPointer(out + d).storeBytes(of: a, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + (d &+ 16)).storeBytes(of: b, as: SIMD16<Float>.self)
            }
            store(out.0, sum.0, sum.1); store(out.1, sum.2, sum.3); store(out.2, sum.4, sum.5)
            d &+= 32
        }
    }

    /// Lane l's positions below `count` in each chunk of 64, in order, with their accumulator j:
    /// (0, l), (1, l + 16), (2, l + 32), (3, l + 48), (0, l + 64), ...
    @inline(__always)
    static func positions(_ l: Int, _ count: Int, _ body: (Int, Int) -> Void) {
        var t = l
        while t &+ 48 < count {
            body(0, t); body(1, t &+ 16); body(2, t &+ 32); body(3, t &+ 48)
            t &+= 64
        }
        if t < count { body(0, t) }
        if t &+ 16 < count { body(1, t &+ 16) }
        if t &+ 32 < count { body(2, t &+ 32) }
    }
}
