import Foundation

/// One pass of the sampler chain over the candidate tokens.
///
/// The chain starts from the whole vocabulary (`input`, read only). Top-k selects straight from it; without
/// top-k the logits are copied into the first buffer pair. After that the candidates live in one of two buffer
/// pairs (ids, logits), and a step that reorders them writes into the other pair.
struct CandidateChain {
    typealias Pair = (ids: UnsafeMutablePointer<TokenID>, logits: UnsafeMutablePointer<Float>)

    private let input: UnsafePointer<Float>
    private let vocabularySize: Int
    private var current: Pair
    private var other: Pair
    private let keys: UnsafeMutablePointer<UInt32>
    private let positions: UnsafeMutablePointer<Int32>
    /// How many candidates are left.
    private(set) var count: Int
    /// Whether the candidates are best first.
    private(set) var sorted = false

    /// `input` holds the logits of all `vocabularySize` tokens (it may be `pairs.0.logits`); each buffer of
    /// `pairs` has room for `vocabularySize` entries, `keys` and `positions` for twice that.
    init(input: UnsafePointer<Float>, vocabularySize: Int, pairs: (Pair, Pair),
         keys: UnsafeMutablePointer<UInt32>, positions: UnsafeMutablePointer<Int32>) {
        self.input = input
        self.vocabularySize = vocabularySize
        current = pairs.0
        other = pairs.1
        self.keys = keys
        self.positions = positions
        count = vocabularySize
    }

    /// Runs top-k, top-p, min-p and temperature, then draws a token.
    mutating func run(_ p: SamplingParameters, random: inout RandomSource) -> TokenID {
        if p.topK > 0 && p.topK < vocabularySize {
            topK(p.topK)
        } else {
            // the whole vocabulary, in id order, in the first pair
            startWhole()
        }
        if p.topP < 1 { topP(p.topP) }
        if p.minP > 0 { minP(p.minP) }
        let best = temperature(p.temperature)
        return draw(&random, maxLogit: best)
    }

    /// Keeps the `k` best tokens of the input (0 < k < vocabularySize), best first, in the second pair.
    /// ref: llama_sampler_top_k_impl
    private mutating func topK(_ k: Int) {
        CandidateSelection.selectTop(k, ids: nil, logits: input, count: vocabularySize,
                                     outIDs: other.ids, outLogits: other.logits)
        swap(&current, &other)
        count = k
        sorted = true
    }

    /// The candidates left, in their current order (for tests and diagnostics).
    var candidates: [TokenID] { (0..<count).map { current.ids[$0] } }

    /// Starts from the whole vocabulary when top-k is off (what `run` does first); internal for tests.
    mutating func startWhole() {
        if UnsafePointer(current.logits) != input { current.logits.update(from: input, count: vocabularySize) }
        for i in 0..<vocabularySize { current.ids[i] = TokenID(truncatingIfNeeded: i) }
    }

    /// Keeps the smallest best-first prefix whose probability reaches `p` (softmax over all candidates); all of
    /// them when rounding keeps the sum below `p`.
    /// ref: llama_sampler_top_p_apply (an adaptive first guess of 256 when there are many unsorted candidates)
    mutating func topP(_ p: Float) {
        guard count > 0 else { return }
        let maxLogit = sorted ? current.logits[0] : maxOfLogits()
        // the softmax denominator; for many unsorted candidates also the mass in each band below the maximum
        let many = !sorted && count > 1024
        var mass = [Float](repeating: 0, count: many ? Self.bands : 0)
        var sum: Float = 0
        for i in 0..<count {
            let e = exp(current.logits[i] - maxLogit)
            sum += e
            if many { mass[Self.band(current.logits[i], below: maxLogit)] += e }
        }
        if sorted {
            count = prefixLength(reaching: p, ids: current.ids, logits: current.logits, count: count,
                                 maxLogit: maxLogit, sum: sum) ?? count
            return
        }
        if many {
            // first guess: the best 256
            CandidateSelection.selectTop(256, ids: current.ids, logits: current.logits, count: count,
                                         outIDs: other.ids, outLogits: other.logits)
            if let keep = prefixLength(reaching: p, ids: other.ids, logits: other.logits, count: 256,
                                       maxLogit: maxLogit, sum: sum) {
                keepRanked(keep)
                return
            }
            if narrowedTopP(p, mass: mass, maxLogit: maxLogit, sum: sum) { return }
            CandidateSelection.rankAll(ids: current.ids, logits: current.logits, count: count,
                                       outIDs: other.ids, outLogits: other.logits, keys: keys, positions: positions)
        } else {
            CandidateSelection.selectTop(count, ids: current.ids, logits: current.logits, count: count,
                                         outIDs: other.ids, outLogits: other.logits)
        }
        keepRanked(prefixLength(reaching: p, ids: other.ids, logits: other.logits, count: count,
                                maxLogit: maxLogit, sum: sum) ?? count)
    }

    /// How many bands of 1/8 nat below the maximum logit `topP` sorts the mass into; the last takes the rest.
    static let bands = 256

    @inline(__always)
    static func band(_ logit: Float, below maxLogit: Float) -> Int {
        let distance = (maxLogit - logit) * 8
        // NaN and far-away logits land in the last band
        return distance < Float(bands - 1) ? Int(distance) : bands - 1
    }

    /// Top-p over only the candidates in the bands that hold `p` of the mass (plus 1% and one more band for
    /// rounding). Those are a best-first prefix of all candidates, so when the nucleus ends among them the result
    /// equals ranking everything. Returns false, changing nothing, when it cannot decide.
    private mutating func narrowedTopP(_ p: Float, mass: [Float], maxLogit: Float, sum: Float) -> Bool {
        let target = p * sum + 0.01 * sum
        var accumulated: Float = 0
        var cut = -1
        for b in 0..<Self.bands {
            accumulated += mass[b]
            if accumulated >= target {
                cut = b
                break
            }
        }
        guard cut >= 0 else { return false }
        var margin = cut + 1
        while margin < Self.bands - 1 && mass[margin] == 0 { margin += 1 }
        cut = margin
        guard cut < Self.bands - 1 else { return false }
        // the candidates in bands 0...cut, still in id order, into the other pair
        var kept = 0
        for i in 0..<count where Self.band(current.logits[i], below: maxLogit) <= cut {
            other.ids[kept] = current.ids[i]
            other.logits[kept] = current.logits[i]
            kept += 1
        }
        let order = CandidateSelection.rankPositions(logits: other.logits, count: kept, keys: keys,
                                                     positions: positions)
        var cumulative: Float = 0
        for j in 0..<kept {
            cumulative += exp(other.logits[Int(order[j])] - maxLogit) / sum
            if cumulative >= p {
                // the nucleus, best first, into the current pair
                for r in 0...j {
                    current.ids[r] = other.ids[Int(order[r])]
                    current.logits[r] = other.logits[Int(order[r])]
                }
                count = j + 1
                sorted = true
                return true
            }
        }
        return false
    }

    /// The length of the shortest prefix whose probability reaches `p`, or nil when the `count` given fall short.
    private func prefixLength(reaching p: Float, ids: UnsafeMutablePointer<TokenID>,
                              logits: UnsafeMutablePointer<Float>, count: Int, maxLogit: Float, sum: Float) -> Int? {
        var cumulative: Float = 0
        for i in 0..<count {
            cumulative += exp(logits[i] - maxLogit) / sum
            if cumulative >= p { return i + 1 }
        }
        return nil
    }

    /// Makes the ranked candidates in the other pair current, keeping the first `keep`.
    private mutating func keepRanked(_ keep: Int) {
        swap(&current, &other)
        sorted = true
        count = keep
    }

    /// Keeps the candidates whose probability is at least `p` times the best one's.
    /// ref: llama_sampler_min_p_apply
    mutating func minP(_ p: Float) {
        guard count > 0 else { return }
        if sorted {
            let threshold = current.logits[0] + log(p)
            var i = 1
            while i < count, !(current.logits[i] < threshold) { i += 1 }
            count = i
            return
        }
        let threshold = maxOfLogits() + log(p)
        var kept = 0
        for i in 0..<count where current.logits[i] >= threshold {
            current.logits[kept] = current.logits[i]
            current.ids[kept] = current.ids[i]
            kept += 1
        }
        if kept > 0 { count = kept }
    }

    /// Divides every remaining logit by `t` (t > 0). When a tiny `t` would overflow the best logits to +inf
    /// (whose softmax is NaN), it divides their distance to the best instead: the same distribution, whose limit
    /// is the best candidate.
    /// Returns the largest logit after it (division by t > 0 keeps the order, so no second scan is needed).
    mutating func temperature(_ t: Float) -> Float {
        let best = sorted ? current.logits[0] : maxOfLogits()
        if best.isFinite && (best / t).isInfinite {
            for i in 0..<count { current.logits[i] = (current.logits[i] - best) / t }
            return 0
        }
        for i in 0..<count { current.logits[i] /= t }
        return best / t
    }

    /// Draws one candidate with probability softmax(logits), walking the candidates in their current order;
    /// `maxLogit` is the largest of them.
    /// ref: llama_sampler_dist_apply (one uniform double per draw, even for a single candidate)
    mutating func draw(_ random: inout RandomSource, maxLogit: Float) -> TokenID {
        let u = random.nextUnitInterval()
        guard count > 1 else { return current.ids[0] }
        var total: Double = 0
        for i in 0..<count {
            let e = exp(current.logits[i] - maxLogit)
            current.logits[i] = e
            total += Double(e)
        }
        let target = total * u
        var running: Double = 0
        for i in 0..<count {
            running += Double(current.logits[i])
            if running >= target { return current.ids[i] }
        }
        // only reachable with NaN logits: the last candidate, as llama.cpp does
        return current.ids[count - 1]
    }

    private func maxOfLogits() -> Float {
        var m = -Float.infinity
        for i in 0..<count where current.logits[i] > m { m = current.logits[i] }
        return m
    }
}
