#if SHIMMY_AVX512VNNI
import X86Intrinsics
#endif

/// The attention products for a batch of queries, 16 positions at a time, in exactly the order of the one-position
/// loops they replace (see `Ops.attentionExact`): every score is still one 16-lane fused chain over the head
/// dimension and a tree sum, and every output value still 16 chains, lane l over positions l, l+16, ... The blocks
/// only keep 16 independent chains in registers, where one position at a time waited on each FMA's latency (scores)
/// or went through memory (values).
extension Ops {
    /// The scores of the 16 keys at `k`, `k + stride`, ... against the query `q` (`dimension` a multiple of 16).
    @inline(__always)
    static func scores16(_ k: UnsafePointer<Float16>, stride: Int, _ q: UnsafePointer<Float>,
                         dimension: Int) -> SIMD16<Float> {
        // the last step of the tree sums pairs the two halves' lanes: lane j is then key j's score
        fold(partialScores8(k, stride: stride, q, dimension: dimension),
             partialScores8(k + 8 &* stride, stride: stride, q, dimension: dimension), 1)
    }

    /// Eight keys' 16-lane chains and the first three steps of their tree sums, side by side: each step adds, for
    /// every vector, the lanes `treeSum` pairs at that step ((l, l+8), then (l, l+4), (l, l+2)), two vectors' worth
    /// per result, so that lanes 2j and 2j+1 hold the two halves left of key j's sum. (Eight keys at a time: with 16
    /// the reduction ran out of registers.)
    @inline(__always)
    static func partialScores8(_ k: UnsafePointer<Float16>, stride: Int, _ q: UnsafePointer<Float>,
                               dimension: Int) -> SIMD16<Float> {
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
        return fold(fold(fold(a0, a1, 8), fold(a2, a3, 8), 4), fold(fold(a4, a5, 8), fold(a6, a7, 8), 4), 2)
    }

    /// One reduction step for two vectors whose lanes are groups of `2g` partial sums: in each group lane l gets
    /// l + (l + g), the groups of `a` first, then those of `b`.
    @inline(__always)
    static func fold(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ g: Int) -> SIMD16<Float> {
        var low = SIMD16<UInt32>()
        for i in 0..<16 { low[i] = UInt32(truncatingIfNeeded: (i / g) &* 2 &* g &+ i % g) }
        return lanePermute(a, b, low) + lanePermute(a, b, low &+ UInt32(truncatingIfNeeded: g))
    }

    /// Lane i of the result: lane `index[i]` of the 32 lanes `a` then `b`.
    @inline(__always)
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
}
