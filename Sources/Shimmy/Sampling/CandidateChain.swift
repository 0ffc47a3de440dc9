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
            if UnsafePointer(current.logits) != input { current.logits.update(from: input, count: vocabularySize) }
            for i in 0..<vocabularySize { current.ids[i] = TokenID(truncatingIfNeeded: i) }
        }
        if p.topP < 1 { topP(p.topP) }
        if p.minP > 0 { minP(p.minP) }
        temperature(p.temperature)
        return draw(&random)
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

    /// Keeps the smallest best-first prefix whose probability reaches `p` (softmax over all candidates).
    /// ref: llama_sampler_top_p_apply (adaptive partial sort of 256 first when there are many candidates)
    mutating func topP(_ p: Float) {
        guard count > 0 else { return }
        let maxLogit = sorted ? current.logits[0] : maxOfLogits()
        var sum: Float = 0
        for i in 0..<count { sum += exp(current.logits[i] - maxLogit) }

        var best: Pair = current
        var ranked = sorted ? count : (count > 1024 ? 256 : count)
        if !sorted {
            CandidateSelection.selectTop(ranked, ids: current.ids, logits: current.logits, count: count,
                                         outIDs: other.ids, outLogits: other.logits)
            best = other
        }
        var cumulative: Float = 0
        var keep = count
        var i = 0
        while i < count {
            if i == ranked {
                // the first guess was too short: rank every candidate
                CandidateSelection.rankAll(ids: current.ids, logits: current.logits, count: count,
                                           outIDs: other.ids, outLogits: other.logits, keys: keys,
                                           positions: positions)
                ranked = count
            }
            cumulative += exp(best.logits[i] - maxLogit) / sum
            if cumulative >= p {
                keep = i + 1
                break
            }
            i += 1
        }
        if !sorted {
            // the kept prefix is ranked best first in `other`
            swap(&current, &other)
            sorted = true
        }
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

    /// Divides every remaining logit by `t` (t > 0).
    mutating func temperature(_ t: Float) {
        for i in 0..<count { current.logits[i] /= t }
    }

    /// Draws one candidate with probability softmax(logits), walking the candidates in their current order.
    /// ref: llama_sampler_dist_apply (one uniform double per draw, even for a single candidate)
    mutating func draw(_ random: inout RandomSource) -> TokenID {
        let u = random.nextUnitInterval()
        guard count > 1 else { return current.ids[0] }
        let maxLogit = sorted ? current.logits[0] : maxOfLogits()
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
