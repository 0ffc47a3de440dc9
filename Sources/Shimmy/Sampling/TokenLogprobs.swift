import Foundation

/// A generated token's log-probability under the model, with the most likely tokens at its position: what OpenAI's
/// and Ollama's `logprobs` report.
///
/// The probabilities are the softmax of the raw logits over the whole vocabulary, before penalties, top-k, top-p
/// and temperature: the model's own distribution, as llama.cpp's server reports by default (`n_probs` without
/// `post_sampling_probs`).
///
/// ```swift
/// let request = GenerationRequest(prompt: .text("Hello"), sampling: .greedy, maxTokens: 8, logprobs: 3)
/// for try await event in model.generate(request) {
///     if case .logprob(let entry) = event { print(entry.text, entry.logprob, entry.top.map(\.text)) }
/// }
/// ```
public struct TokenLogprob: Sendable, Equatable {
    public var token: TokenID
    /// The bytes the token stands for (special tokens as their text); may be part of a UTF-8 character.
    public var bytes: [UInt8]
    /// Natural log of the token's probability.
    public var logprob: Float
    /// The most likely tokens at this position, best first (ties: the lower id first); empty in the entries of
    /// `top` themselves.
    public var top: [TokenLogprob]

    public init(token: TokenID, bytes: [UInt8], logprob: Float, top: [TokenLogprob] = []) {
        self.token = token
        self.bytes = bytes
        self.logprob = logprob
        self.top = top
    }

    /// `bytes` as text (U+FFFD for part of a character).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The entry of `token` in the distribution of `logits` (`count` raw logits), with the `top` most likely
    /// tokens; `bytes` gives a token's bytes. Computed as llama.cpp's server does, so that the values are its own:
    /// the vocabulary ranked best first, each probability relative to the largest logit and summed in float in
    /// that order (the order changes the sum by up to ~1e-4), and the log taken of the normalized probability.
    /// Costs a radix sort of the vocabulary (a fraction of a millisecond for 49152 tokens).
    public static func make(_ logits: UnsafePointer<Float>, count: Int, token: TokenID, top: Int,
                            bytes: (TokenID) -> [UInt8]) -> TokenLogprob {
        guard count > 0 else { return TokenLogprob(token: token, bytes: bytes(token), logprob: -.infinity) }
        let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * count)
        let positions = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * count)
        defer {
            keys.deallocate()
            positions.deallocate()
        }
        let order = CandidateSelection.rankPositions(logits: logits, count: count, keys: keys, positions: positions)
        let largest = logits[Int(order[0])]
        var sum: Float = 0
        for i in 0..<count { sum += expf(logits[Int(order[i])] - largest) }
        func logprob(_ id: TokenID) -> Float {
            guard id >= 0, Int(id) < count else { return -.infinity }
            let shifted = logits[Int(id)] - largest
            let p = expf(shifted) / sum
            // a token so far below the largest that its probability is 0 in float keeps a finite value
            return p > 0 ? logf(p) : shifted - logf(sum)
        }
        let alternatives = (0..<min(max(0, top), count)).map { i -> TokenLogprob in
            let id = TokenID(order[i])
            return TokenLogprob(token: id, bytes: bytes(id), logprob: logprob(id))
        }
        return TokenLogprob(token: token, bytes: bytes(token), logprob: logprob(token), top: alternatives)
    }
}
