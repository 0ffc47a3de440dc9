import ShimmyTestSupport
import Testing
@testable import Tensors

/// The blocked attention paths (16 keys, 16 value chains at a time) against the order they must keep, written as
/// plain loops, bit for bit; and exp16's whole-vector scaling against its lane-by-lane path.
@Suite("Attention")
struct AttentionTests {
    /// ggml's 16-lane tree: (l, l+8), then (l, l+4), (l, l+2), (0, 1).
    static func tree16(_ a: [Float]) -> Float {
        let b = (0..<8).map { a[$0] + a[$0 + 8] }
        let c = (0..<4).map { b[$0] + b[$0 + 4] }
        let e = (0..<2).map { c[$0] + c[$0 + 2] }
        return e[0] + e[1]
    }

    /// Attention in the documented order of `attentionExact`, one position at a time: a query of a batch, or with
    /// `oneQuery` a batch of one (ggml_vec_dot_f16's four 16-lane accumulators over chunks of 64).
    static func reference(query: [Float], keys: [Float16], values: [Float16], stride: Int, count: Int,
                          dimension: Int, scale: Float, oneQuery: Bool = false) -> [Float] {
        let q = query.map { Float(Float16($0)) }
        var scores = [Float](repeating: 0, count: count)
        for t in 0..<count where oneQuery {
            var a = [[Float]](repeating: [Float](repeating: 0, count: 16), count: 4)
            var d = 0
            while d + 64 <= dimension {
                for c in 0..<4 {
                    for l in 0..<16 {
                        a[c][l] = a[c][l].addingProduct(Float(keys[t * stride + d + 16 * c + l]), q[d + 16 * c + l])
                    }
                }
                d += 64
            }
            var sum = Double(tree16((0..<16).map { (a[0][$0] + a[2][$0]) + (a[1][$0] + a[3][$0]) }))
            while d < dimension {
                sum += Double(Float(keys[t * stride + d]) * q[d])
                d += 1
            }
            scores[t] = Float(sum) * scale
        }
        for t in 0..<count where !oneQuery {
            var acc = [Float](repeating: 0, count: 16)
            var d = 0
            while d + 16 <= dimension {
                for l in 0..<16 { acc[l] = acc[l].addingProduct(Float(keys[t * stride + d + l]), q[d + l]) }
                d += 16
            }
            var sum = tree16(acc)
            while d < dimension {
                sum = sum.addingProduct(Float(keys[t * stride + d]), q[d])
                d += 1
            }
            scores[t] = sum * scale
        }
        let top = scores.max() ?? 0
        var e = [Float](repeating: 0, count: count)
        var total = 0.0
        for c in 0..<(count + 15) / 16 {
            var v = SIMD16<Float>(repeating: -.infinity)
            for l in 0..<min(16, count - c * 16) { v[l] = scores[c * 16 + l] }
            let x = Ops.exp16(v - top)
            for l in 0..<min(16, count - c * 16) { e[c * 16 + l] = x[l] }
            total += Double(tree16((0..<16).map { x[$0] }))
        }
        let inverse = Float(1 / total)
        let p = e.map { Float(Float16($0 * inverse)) }
        let period = oneQuery ? 64 : 16
        var lanes = [[Float]](repeating: [Float](repeating: 0, count: dimension), count: period)
        for t in 0..<count {
            for d in 0..<dimension {
                lanes[t % period][d] = lanes[t % period][d].addingProduct(Float(values[t * stride + d]), p[t])
            }
        }
        if oneQuery {
            for l in 0..<16 {
                for d in 0..<dimension {
                    lanes[l][d] = (lanes[l][d] + lanes[l + 32][d]) + (lanes[l + 16][d] + lanes[l + 48][d])
                }
            }
        }
        return (0..<dimension).map { d in tree16((0..<16).map { lanes[$0][d] }) }
    }

    @Test("blocked attention gives the one-position order's bits",
          arguments: [(64, 1, false), (64, 15, false), (64, 16, false), (64, 17, false), (64, 50, false),
                      (128, 33, false), (48, 40, false), (32, 64, false), (24, 20, false),
                      (64, 1, true), (64, 17, true), (64, 63, true), (64, 64, true), (64, 65, true), (64, 150, true),
                      (64, 127, true), (64, 128, true), (64, 129, true), (64, 300, true), (128, 70, true),
                      (128, 200, true), (32, 40, true)])
    func blockedMatchesReference(dimension: Int, count: Int, oneQuery: Bool) {
        var generator = SplitMix64(state: UInt64(dimension * 1000 + count))
        let stride = dimension + 8  // rows of a wider cache, as with several KV heads
        let keys = (0..<count * stride).map { _ in Float16(generator.float()) }
        let values = (0..<count * stride).map { _ in Float16(generator.float()) }
        let query = (0..<dimension).map { _ in 3 * generator.float() }
        let scale = 1 / Float(dimension).squareRoot()
        var out = [Float](repeating: 0, count: dimension)
        var scratch = [Float](repeating: 0, count: Ops.attentionScratchCount(count: count, dimension: dimension))
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                query.withUnsafeBufferPointer { q in
                    Ops.attentionExact(&out, query: q.baseAddress!, keys: k.baseAddress!, values: v.baseAddress!,
                                       stride: stride, count: count, dimension: dimension, scale: scale,
                                       oneQuery: oneQuery, scratch: &scratch)
                }
            }
        }
        let expected = Self.reference(query: query, keys: keys, values: values, stride: stride, count: count,
                                      dimension: dimension, scale: scale, oneQuery: oneQuery)
        let differing = (0..<dimension).filter { out[$0].bitPattern != expected[$0].bitPattern }
        #expect(differing.isEmpty, "values \(differing.prefix(5)): \(differing.prefix(5).map { (out[$0], expected[$0]) })")
    }

    // The outputs above depend on the scores only through half-rounded probabilities, which hide most last-bit
    // differences of a score: the score blocks are compared with the one-key path directly.
    @Test("16-key score blocks give the one-key scores' bits", arguments: [64, 128, 48])
    func scoreBlocksMatchOneKey(dimension: Int) {
        var generator = SplitMix64(state: UInt64(dimension))
        let stride = dimension + 8, count = 16
        let keys = (0..<count * stride).map { _ in Float16(generator.float()) }
        let queries = (0..<3 * dimension).map { _ in Float(Float16(3 * generator.float())) }
        var scratch = [Float](repeating: 0, count: Ops.attentionScratchCount(count: count, dimension: dimension))
        keys.withUnsafeBufferPointer { k in
            queries.withUnsafeBufferPointer { q in
                scratch.withUnsafeMutableBufferPointer { buffer in
                    let head = Ops.AttentionScratch(buffer.baseAddress!, count: count, dimension: dimension)
                    var single = [[Float]](), singleOneQuery = [[Float]]()
                    for h in 0..<3 {
                        head.q.update(from: q.baseAddress! + h * dimension, count: dimension)
                        for oneQuery in [false, true] {
                            var top = -Float.infinity
                            Ops.scoreRest(head, keys: k.baseAddress!, stride: stride, from: 0, count: count,
                                          dimension: dimension, scale: 1, oneQuery: oneQuery, maxScore: &top)
                            let scores = Array(UnsafeBufferPointer(start: head.scores, count: count))
                            if oneQuery { singleOneQuery.append(scores) } else { single.append(scores) }
                        }
                    }
                    let q0 = q.baseAddress!, q1 = q0 + dimension, q2 = q1 + dimension
                    let folds = Ops.FoldIndices(hidden: 0)
                    var blocks = [q0, q1, q2].map {
                        Ops.scores16(k.baseAddress!, stride: stride, $0, dimension: dimension, folds: folds)
                    }
                    if dimension % 64 == 0 {  // the three-head job's blocks (head sizes that are multiples of 64)
                        let (s0, s1, s2) = Ops.scores16x3(k.baseAddress!, stride: stride, q0, q1, q2,
                                                          dimension: dimension, folds: folds)
                        blocks += [s0, s1, s2]
                    }
                    for (b, block) in blocks.enumerated() {
                        let h = b % 3
                        let differing = (0..<16).filter { block[$0].bitPattern != single[h][$0].bitPattern }
                        #expect(differing.isEmpty, "block \(b): keys \(differing)")
                    }
                    // a batch of one (ggml_vec_dot_f16's order), for head sizes that are multiples of 64
                    if dimension % 64 == 0 {
                        let folds = Ops.FoldIndices(hidden: 0)
                        var oneQueryBlocks = [q0, q1, q2].map {
                            Ops.scoresOneQuery16(k.baseAddress!, stride: stride, $0, dimension: dimension, folds: folds)
                        }
                        let (s0, s1, s2) = Ops.scoresOneQuery16x3(k.baseAddress!, stride: stride, q0, q1, q2,
                                                                  dimension: dimension, folds: folds)
                        oneQueryBlocks += [s0, s1, s2]
                        for (b, block) in oneQueryBlocks.enumerated() {
                            let differing = (0..<16).filter {
                                block[$0].bitPattern != singleOneQuery[b % 3][$0].bitPattern
                            }
                            #expect(differing.isEmpty, "one-query block \(b): keys \(differing)")
                        }
                    }
                }
            }
        }
    }

    @Test("three query heads of a KV group at once give each head's own bits",
          arguments: [(64, 1, false), (64, 15, false), (64, 16, false), (64, 17, false), (64, 50, false),
                      (128, 33, false), (64, 1, true), (64, 16, true), (64, 17, true), (64, 64, true),
                      (64, 100, true), (64, 129, true), (128, 70, true)])
    func groupOfThreeMatchesSingleHeads(dimension: Int, count: Int, oneQuery: Bool) {
        var generator = SplitMix64(state: UInt64(dimension * 7 + count))
        let stride = dimension + 8
        let keys = (0..<count * stride).map { _ in Float16(generator.float()) }
        let values = (0..<count * stride).map { _ in Float16(generator.float()) }
        let queries = (0..<3 * dimension).map { _ in 3 * generator.float() }
        let scale = 1 / Float(dimension).squareRoot()
        let size = Ops.attentionScratchCount(count: count, dimension: dimension)
        var grouped = [Float](repeating: 0, count: 3 * dimension), single = grouped
        var scratch = [Float](repeating: 0, count: 3 * size)
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                queries.withUnsafeBufferPointer { q in
                    Ops.attentionExact3(&grouped, query: q.baseAddress!, keys: k.baseAddress!, values: v.baseAddress!,
                                        stride: stride, count: count, dimension: dimension, scale: scale,
                                        oneQuery: oneQuery, scratch: &scratch)
                    single.withUnsafeMutableBufferPointer { out in
                        for h in 0..<3 {
                            Ops.attentionExact(out.baseAddress! + h * dimension, query: q.baseAddress! + h * dimension,
                                               keys: k.baseAddress!, values: v.baseAddress!, stride: stride,
                                               count: count, dimension: dimension, scale: scale,
                                               oneQuery: oneQuery, scratch: &scratch)
                        }
                    }
                }
            }
        }
        let differing = grouped.indices.filter { grouped[$0].bitPattern != single[$0].bitPattern }
        #expect(differing.isEmpty, "values \(differing.prefix(5)): \(differing.prefix(5).map { (grouped[$0], single[$0]) })")
    }

    @Test("exp16 scales by 2^n in one vector multiply with the lane-by-lane path's bits")
    func expVectorScaling() {
        var generator = SplitMix64(state: 7)
        // every lane in range takes the vector multiply; one lane far below the range sends all 16 lane by lane
        var inputs: [Float] = (0..<4000).map { _ in 89.5 * generator.float() - 0.5 }
        inputs += [0, -0.0, 1, -1, -86.5, -87.3, -87.4, -88.0, 88.0, 88.7, 1e-8, -1e-8]
        for x in inputs {
            let vector = Ops.exp16(SIMD16(repeating: x))
            var mixed = SIMD16<Float>(repeating: x)
            mixed[15] = -1000
            let lanes = Ops.exp16(mixed)
            #expect(lanes[15] == 0)
            #expect(vector[0].bitPattern == lanes[0].bitPattern, "exp(\(x)): \(vector[0]) against \(lanes[0])")
        }
    }
}
