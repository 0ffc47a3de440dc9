import Foundation
import X86Intrinsics

/// ggml's vector exponential and the attention arithmetic of llama.cpp's CPU backend (without flash attention),
/// followed operation for operation so that the engine's activations agree with llama.cpp's bit for bit where the
/// inputs do: an activation that later gets quantized to 8 bits turns a last-bit difference into a whole
/// quantization step now and then, and those steps are what separates two engines' quantized-model logits.
extension Ops {
    /// `e^x` for 16 lanes as ggml's AVX-512 `ggml_v_expf` computes it (a degree-5 polynomial on the reduced argument,
    /// scaled by `2^n`; error under 1.5 ulp): the same fused operations in the same order, so the same bits.
    @inlinable @inline(__always)
    public static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let r = SIMD16<Float>(repeating: 0x1.8p23)
        let n = fma(r, x, SIMD16(repeating: 0x1.715476p+0)) - r
        let b = fma(fma(x, -n, SIMD16(repeating: 0x1.62e4p-1)), -n, SIMD16(repeating: 0x1.7f7d1cp-20))
        let u = b * b
        // ((c1·b + c2)·u + (c3·b + c4))·u + (c5·b + 1), every step fused; fma(acc, a, b) is acc + a·b
        let p12 = fma(SIMD16(repeating: 0x1.573e2ep-5), SIMD16(repeating: 0x1.0e4020p-7), b)
        let p34 = fma(SIMD16(repeating: 0x1.fffdb6p-2), SIMD16(repeating: 0x1.555e66p-3), b)
        let p5 = fma(SIMD16(repeating: 1), SIMD16(repeating: 0x1.ffffecp-1), b)
        let j = fma(p5, fma(p34, p12, u), u)
        // j · 2^n: one multiply by 2^n built from its exponent bits when every n keeps 2^n and the result normal
        // (the common case), else lane by lane
        let low = n .< -125, high = n .> 127
        if !any(low .| high) {
            var e = SIMD16<Int32>()
            for i in 0..<16 { e[i] = Int32(n[i]) &+ 127 }  // the SIMD conversion initializer is a call
            let bits = e &<< 23
            return j * unsafeBitCast(bits, to: SIMD16<Float>.self)
        }
        var result = SIMD16<Float>()
        for i in 0..<16 { result[i] = scaleByPowerOfTwo(j[i], n[i]) }
        return result
    }

    /// `j · 2^n` rounded once (AVX-512 `vscalefps` for an integral `n`), and ggml's out-of-range results: beyond
    /// |n| > 192 the result is 0 for n ≤ 0 and +∞ otherwise (NaN arguments take that path too).
    @inlinable @inline(__always)
    static func scaleByPowerOfTwo(_ j: Float, _ n: Float) -> Float {
        if !(abs(n) <= 192) { return n <= 0 ? 0 : .infinity }
        if n >= -125 && n <= 127 {
            return j * Float(bitPattern: UInt32(Int32(n) + 127) << 23)  // exact: the result stays normal
        }
        return Float(Double(j) * Double(sign: .plus, exponent: Int(n), significand: 1))
    }

    /// `silu(gate) · up` over `count` values (a multiple of 16 in every llama-style model; any rest uses libm's
    /// `exp`, as ggml's scalar tail does). ref: ggml-cpu vec.cpp ggml_vec_swiglu_f32, ggml_v_silu.
    @inlinable
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let x = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
            let g = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
            let silu = x / (1 + exp16(0 - x))
            UnsafeMutableRawPointer(gate + i).storeBytes(of: silu * g, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let x = gate[i]
            gate[i] = x / (1 + Foundation.exp(-x)) * up[i]
            i += 1
        }
    }

    /// One query head's attention over cached positions `0..<count`, as llama.cpp computes it without flash
    /// attention for a batch of two or more queries (`kq = K·q`, `softmax(kq · scale)`, `V·p` through llamafile's
    /// half-precision tinyBLAS and ggml's softmax):
    /// - the query is rounded to half precision; each score is a 16-lane fused chain over the head dimension
    ///   followed by a tree sum, then scaled;
    /// - the softmax exponentials are `exp16` of `score − max` in chunks of 16 positions, each chunk tree-summed
    ///   and added in double; the probabilities are scaled by the rounded inverse sum, then rounded to half;
    /// - each output value is a 16-lane chain over positions (lane = position mod 16) followed by a tree sum.
    /// With `oneQuery` (a batch of one), the two products follow ggml_vec_dot_f16 instead, as llama.cpp does there:
    /// for head sizes that are multiples of 64, 16 keys' scores at a time (`oneQueryScoreBlocks`, VNNI builds; its
    /// loop prefetches the next keys and the values) and the output values' 64 chains in registers
    /// (`valuesOneQuery`).
    ///
    /// `keys`/`values` point at position 0 of this head's cache rows, `stride` halves apart.
    /// `scratch` holds `scratchCount(count:dimension:)` floats.
    public static func attentionExact(_ out: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
                                      keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>, stride: Int,
                                      count: Int, dimension: Int, scale: Float, oneQuery: Bool,
                                      scratch: UnsafeMutablePointer<Float>) {
        let head = AttentionScratch(scratch, count: count, dimension: dimension)
        roundQuery(head.q, query, dimension: dimension)
        // scores: a 16-lane fused chain over the head dimension, tree-summed
        var maxScore = -Float.infinity
        var first = 0
        // one query's 16 keys at a time only where the lane permute is an instruction (portable: dotOneQuery)
        #if SHIMMY_AVX512VNNI
        let blocks = oneQuery ? dimension % 64 == 0 : dimension % 16 == 0
        #else
        let blocks = !oneQuery && dimension % 16 == 0
        #endif
        if blocks {  // 16 keys at a time, the same chains and sums
            let m = oneQuery
                ? oneQueryScoreBlocks(head, keys: keys, values: values, stride: stride, count: count,
                                      dimension: dimension, scale: scale)
                : scoreBlocks(head, keys: keys, stride: stride, count: count, dimension: dimension, scale: scale)
            first = count & ~15
            for l in 0..<16 where m[l] > maxScore { maxScore = m[l] }
        }
        scoreRest(head, keys: keys, stride: stride, from: first, count: count, dimension: dimension, scale: scale,
                  oneQuery: oneQuery, maxScore: &maxScore)
        softmax(head, count: count, maxScore: maxScore)
        if oneQuery && dimension % 64 == 0 {  // the 64 chains of 64 output values in registers
            valuesOneQuery(out, head.scores, values, stride: stride, count: count, dimension: dimension)
            return
        }
        // V·p: lane l of every output value chains positions l, l+16, l+32, ...
        var rest = 0
        if !oneQuery && dimension % 16 == 0 {  // whole groups of 16 positions with the chains in registers
            if dimension % 64 == 0 {
                valueChains64(head.lanes, head.scores, values, stride: stride, count: count, dimension: dimension)
            } else {
                valueChains(head.lanes, head.scores, values, stride: stride, count: count, dimension: dimension)
            }
            rest = count & ~15
        } else {
            // a plain loop (LLVM's memset): `update(repeating:)` stayed a call in the portable build
            for i in 0..<((oneQuery ? 64 : 16) &* dimension) { head.lanes[i] = 0 }
        }
        finishValues(out, head, values: values, stride: stride, from: rest, count: count, dimension: dimension,
                     oneQuery: oneQuery)
    }

    /// `attentionExact` for three query heads that share their keys and values (heads of one KV group): `out`,
    /// `query` and `scratch` hold the three heads one after another (`dimension` floats apart for `out` and
    /// `query`, `attentionScratchCount` apart for `scratch`). For a batch, each key and value is converted from half
    /// precision once for the three; for one query (`oneQuery`), each value row too, and each key in VNNI builds
    /// (the portable build scores each head's keys on its own, see `attentionExact`). Every head's result has the
    /// same bits as `attentionExact`'s.
    /// `dimension` must be a multiple of 64.
    public static func attentionExact3(_ out: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
                                       keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>, stride: Int,
                                       count: Int, dimension: Int, scale: Float, oneQuery: Bool = false,
                                       scratch: UnsafeMutablePointer<Float>) {
        let size = attentionScratchCount(count: count, dimension: dimension)
        let h0 = AttentionScratch(scratch, count: count, dimension: dimension)
        let h1 = AttentionScratch(scratch + size, count: count, dimension: dimension)
        let h2 = AttentionScratch(scratch + 2 &* size, count: count, dimension: dimension)
        roundQuery(h0.q, query, dimension: dimension)
        roundQuery(h1.q, query + dimension, dimension: dimension)
        roundQuery(h2.q, query + 2 &* dimension, dimension: dimension)
        var m0 = SIMD16<Float>(repeating: -.infinity), m1 = m0, m2 = m0
        var first = 0
        #if SHIMMY_AVX512VNNI
        let blocks = true
        #else
        let blocks = !oneQuery  // one query: dotOneQuery per key (see attentionExact)
        #endif
        if blocks {
            (m0, m1, m2) = oneQuery
                ? oneQueryScoreBlocks3((h0, h1, h2), keys: keys, values: values, stride: stride, count: count,
                                       dimension: dimension, scale: scale)
                : scoreBlocks3((h0, h1, h2), keys: keys, stride: stride, count: count, dimension: dimension,
                               scale: scale)
            first = count & ~15
        }
        @inline(__always) func probabilities(_ head: AttentionScratch, _ m: SIMD16<Float>) {
            var maxScore = -Float.infinity
            for l in 0..<16 where m[l] > maxScore { maxScore = m[l] }
            scoreRest(head, keys: keys, stride: stride, from: first, count: count, dimension: dimension, scale: scale,
                      oneQuery: oneQuery, maxScore: &maxScore)
            softmax(head, count: count, maxScore: maxScore)
        }
        probabilities(h0, m0)
        probabilities(h1, m1)
        probabilities(h2, m2)
        if oneQuery {
            valuesOneQuery3((out, out + dimension, out + 2 &* dimension),
                            (UnsafePointer(h0.scores), UnsafePointer(h1.scores), UnsafePointer(h2.scores)), values,
                            stride: stride, count: count, dimension: dimension)
            return
        }
        valueChains64x3((h0.lanes, h1.lanes, h2.lanes),
                        (UnsafePointer(h0.scores), UnsafePointer(h1.scores), UnsafePointer(h2.scores)), values,
                        stride: stride, count: count, dimension: dimension)
        @inline(__always) func finish(_ i: Int, _ head: AttentionScratch) {
            finishValues(out + i &* dimension, head, values: values, stride: stride, from: count & ~15, count: count,
                         dimension: dimension, oneQuery: false)
        }
        finish(0, h0)
        finish(1, h1)
        finish(2, h2)
    }

    /// One query's next block of 16 keys (after `k`) and this block's values (at `v`), asked for ahead of their use
    /// (two cache lines of each row: `dimension` halves, a multiple of 64).
    @inline(__always)
    static func prefetchBlock(_ k: UnsafePointer<Float16>, _ v: UnsafePointer<Float16>, stride: Int, dimension: Int) {
        let last: Int = 2 &* dimension &- 64  // the row's last cache line
        for j in 0..<16 {
            let nk = UnsafeRawPointer(k + (16 &+ j) &* stride), nv = UnsafeRawPointer(v + j &* stride)
            prefetch(nk); prefetch(nk + last)
            prefetch(nv); prefetch(nv + last)
        }
    }

    /// One head's pieces of attention scratch: the half-rounded query, the scores (then probabilities) padded to
    /// whole chunks of 16, and the output values' lane chains (16, or 64 for one query, rows of `dimension`).
    struct AttentionScratch {
        let q: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, lanes: UnsafeMutablePointer<Float>
        @inline(__always)
        init(_ scratch: UnsafeMutablePointer<Float>, count: Int, dimension: Int) {
            q = scratch
            scores = scratch + dimension
            lanes = scores + (count + 15) / 16 * 16
        }
    }

    @inline(__always)
    static func roundQuery(_ q: UnsafeMutablePointer<Float>, _ query: UnsafePointer<Float>, dimension: Int) {
        for d in 0..<dimension { q[d] = Float(Float16(query[d])) }
    }

    /// Stores 16 scores at position `first` and keeps the lanes' running maximum.
    @inline(__always)
    static func storeScores(_ s: SIMD16<Float>, _ head: AttentionScratch, _ first: Int, _ m: inout SIMD16<Float>) {
        UnsafeMutableRawPointer(head.scores + first).storeBytes(of: s, as: SIMD16<Float>.self)
        m.replace(with: s, where: s .> m)
    }

    /// The scores of positions `from..<count` one at a time, and their maximum folded into `maxScore`.
    @inline(__always)
    static func scoreRest(_ head: AttentionScratch, keys: UnsafePointer<Float16>, stride: Int, from: Int, count: Int,
                          dimension: Int, scale: Float, oneQuery: Bool, maxScore: inout Float) {
        let q = head.q
        for t in from..<count {
            let k = keys + t * stride
            let dot: Float
            if oneQuery {
                dot = dotOneQuery(k, q, dimension)
            } else {
                var acc = SIMD16<Float>()
                var d = 0
                while d + 16 <= dimension {
                    let kv = widen(UnsafeRawPointer(k + d).loadUnaligned(as: SIMD16<Float16>.self))
                    let qv = UnsafeRawPointer(q + d).loadUnaligned(as: SIMD16<Float>.self)
                    acc = fma(acc, kv, qv)
                    d += 16
                }
                var sum = treeSum(acc)
                while d < dimension {  // head sizes that are not a multiple of 16 (none in the llama family)
                    sum = sum.addingProduct(Float(k[d]), q[d])
                    d += 1
                }
                dot = sum
            }
            let s = dot * scale
            head.scores[t] = s
            if s > maxScore { maxScore = s }
        }
    }

    /// The scores turned into half-rounded probabilities in place, in chunks of 16 (positions past the end are
    /// masked: exactly 0).
    @inline(__always)
    static func softmax(_ head: AttentionScratch, count: Int, maxScore: Float) {
        let scores = head.scores, chunks = (count + 15) / 16
        var sum = 0.0
        for c in 0..<chunks {
            var v: SIMD16<Float>
            if c &* 16 &+ 16 <= count {
                v = UnsafeRawPointer(scores + c &* 16).loadUnaligned(as: SIMD16<Float>.self)
            } else {
                v = SIMD16(repeating: -.infinity)
                for l in 0..<count - c * 16 { v[l] = scores[c * 16 + l] }
            }
            let e = exp16(v - maxScore)
            UnsafeMutableRawPointer(scores + c * 16).storeBytes(of: e, as: SIMD16<Float>.self)
            sum += Double(treeSum(e))
        }
        let inverse = Float(1 / sum)
        // p = half(e · inverse), 16 at a time (the masked tail of the last chunk is 0 and stays 0)
        for c in 0..<chunks {
            let x = UnsafeRawPointer(scores + c &* 16).loadUnaligned(as: SIMD16<Float>.self) * inverse
            var p = SIMD16<Float>()
            for l in 0..<16 { p[l] = Float(Float16(x[l])) }
            UnsafeMutableRawPointer(scores + c &* 16).storeBytes(of: p, as: SIMD16<Float>.self)
        }
    }

    /// The value chains of positions `from..<count` one at a time, then each output value as the tree sum of its
    /// lanes (for one query: ggml_vec_dot_f16's four accumulators first).
    @inline(__always)
    static func finishValues(_ out: UnsafeMutablePointer<Float>, _ head: AttentionScratch,
                             values: UnsafePointer<Float16>, stride: Int, from: Int, count: Int, dimension: Int,
                             oneQuery: Bool) {
        let lanes = head.lanes, lanesCount = oneQuery ? 64 : 16
        for t in from..<count {
            let p = head.scores[t], v = values + t * stride, acc = lanes + (t & (lanesCount - 1)) * dimension
            var d = 0
            while d + 16 <= dimension {
                let vv = widen(UnsafeRawPointer(v + d).loadUnaligned(as: SIMD16<Float16>.self))
                let a = UnsafeRawPointer(acc + d).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(acc + d).storeBytes(of: fma(a, vv, SIMD16(repeating: p)), as: SIMD16<Float>.self)
                d += 16
            }
            while d < dimension {
                acc[d] = acc[d].addingProduct(Float(v[d]), p)
                d += 1
            }
        }
        if oneQuery {  // the four accumulators: (a0 + a2) + (a1 + a3)
            for l in 0..<16 {
                let a0 = lanes + l * dimension, a1 = a0 + 16 * dimension
                let a2 = a0 + 32 * dimension, a3 = a0 + 48 * dimension
                for d in 0..<dimension { a0[d] = (a0[d] + a2[d]) + (a1[d] + a3[d]) }
            }
        }
        // tree sum over the 16 lanes, as _mm512_reduce_add_ps pairs them: (l, l+8), then (l, l+4), (l, l+2), (0, 1)
        var width = 8
        while width >= 1 {
            for l in 0..<width {
                let a = lanes + l * dimension, b = lanes + (l + width) * dimension
                for d in 0..<dimension { a[d] += b[d] }
            }
            width /= 2
        }
        for d in 0..<dimension { out[d] = lanes[d] }
    }

    /// Floats of scratch that `attentionExact` needs.
    public static func attentionScratchCount(count: Int, dimension: Int) -> Int {
        dimension + (count + 15) / 16 * 16 + 64 * dimension
    }

    /// A cached key · the half-rounded query in ggml_vec_dot_f16's order (the score of a single query).
    @inlinable @inline(__always)
    static func dotOneQuery(_ k: UnsafePointer<Float16>, _ q: UnsafePointer<Float>, _ dimension: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        @inline(__always) func load(_ d: Int) -> (SIMD16<Float>, SIMD16<Float>) {
            (widen(UnsafeRawPointer(k + d).loadUnaligned(as: SIMD16<Float16>.self)),
             UnsafeRawPointer(q + d).loadUnaligned(as: SIMD16<Float>.self))
        }
        var d = 0
        while d + 64 <= dimension {
            let (k0, q0) = load(d), (k1, q1) = load(d + 16), (k2, q2) = load(d + 32), (k3, q3) = load(d + 48)
            a0 = fma(a0, k0, q0)
            a1 = fma(a1, k1, q1)
            a2 = fma(a2, k2, q2)
            a3 = fma(a3, k3, q3)
            d += 64
        }
        var sum = Double(treeSum((a0 + a2) + (a1 + a3)))
        while d < dimension {
            sum += Double(Float(k[d]) * q[d])
            d += 1
        }
        return Float(sum)
    }

    /// Asks for the `bytes` at `p` in the cache ahead of their use, one `prefetcht0` per 64-byte line.
    @inlinable
    public static func prefetchLines(_ p: UnsafeRawPointer, bytes: Int) {
        var offset = 0
        while offset < bytes {
            prefetch(p + offset)
            offset &+= 64
        }
    }
}
