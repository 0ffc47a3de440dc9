/// The recent tokens the repeat, frequency and presence penalties look at.
/// ref: llama-sampler.cpp llama_sampler_penalties_accept / _apply
struct PenaltyHistory: Sendable {
    /// How many tokens are remembered; nil means all of them.
    let window: Int?
    /// The remembered tokens, oldest first once the ring is full (`head` is the oldest slot then).
    private var ring: [TokenID] = []
    private var head = 0
    /// How often each remembered token occurs.
    private(set) var counts: [TokenID: Int] = [:]

    /// `lastN` 0 remembers nothing, a negative value remembers everything.
    init(lastN: Int) {
        window = lastN < 0 ? nil : lastN
        if let window { ring.reserveCapacity(min(window, 4096)) }
    }

    /// Records one token, forgetting the oldest when the window is full.
    mutating func append(_ token: TokenID) {
        guard let window else {
            counts[token, default: 0] += 1
            return
        }
        guard window > 0 else { return }
        counts[token, default: 0] += 1
        if ring.count < window {
            ring.append(token)
            return
        }
        let old = ring[head]
        if let c = counts[old] {
            counts[old] = c > 1 ? c - 1 : nil
        }
        ring[head] = token
        head = (head + 1) % window
    }

    /// Applies llama.cpp's rule to `logits` (one entry per vocabulary id): a positive logit is divided by
    /// `repeat`, a non-positive one multiplied; then `count * frequency + presence` is subtracted.
    func apply(to logits: UnsafeMutableBufferPointer<Float>, repeat penalty: Float, frequency: Float,
               presence: Float) {
        for (token, count) in counts {
            let i = Int(token)
            guard i >= 0, i < logits.count else { continue }
            var logit = logits[i]
            logit = logit <= 0 ? logit * penalty : logit / penalty
            logits[i] = logit - (Float(count) * frequency + (count > 0 ? presence : 0))
        }
    }
}
