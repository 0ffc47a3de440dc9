import Foundation

/// Picks each next token from the model's logits with llama.cpp's default sampler chain:
/// logit bias → penalties → top-k → top-p → min-p → temperature → a draw from the remaining distribution.
///
/// A temperature of 0 (or less) is greedy: the highest penalized logit, ties going to the lowest id.
/// A fixed `seed` gives the same tokens for the same logits on every run and at every thread count.
///
/// ```swift
/// var sampler = Sampler(parameters: SamplingParameters(temperature: 0.8, seed: 7), vocabularySize: 49152)
/// for token in promptTokens { sampler.accept(token) }
/// let next = logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!) }  // logits.count == 49152
/// sampler.accept(next)
/// ```
/// ref: llama-sampler.cpp (penalties, top_k, top_p, min_p, temp, dist) and common/sampling.cpp (chain order).
public struct Sampler: Sendable {
    /// The settings this sampler was made with.
    public let parameters: SamplingParameters
    /// How many logits each `sample` call reads.
    public let vocabularySize: Int

    private var random: RandomSource
    private var history: PenaltyHistory
    private var buffers: Buffers
    private let penaltiesEnabled: Bool
    private let repeatPenalty: Float
    private let frequencyPenalty: Float
    private let presencePenalty: Float
    /// `logitBias` within the vocabulary, by id.
    private let bias: [(index: Int, value: Float)]
    /// Whether the logits are rewritten (biased or penalized) into a buffer before the chain reads them.
    private let rewritesLogits: Bool

    /// Scratch space, allocated once and only as large as the configured chain needs (at least one entry each,
    /// so every buffer has an address).
    private struct Buffers: Sendable {
        /// The first candidate pair; `logits` also holds the penalized logits.
        var ids: [TokenID] = []
        var logits: [Float] = []
        /// The second pair: top-k's output, or top-p's ranking.
        var otherIDs: [TokenID] = []
        var otherLogits: [Float] = []
        /// Radix-sort space for ranking a whole vocabulary.
        var keys: [UInt32] = []
        var positions: [Int32] = []

        init() {}

        init(_ p: SamplingParameters, vocabularySize n: Int, rewrites: Bool) {
            // `rewrites`: the logits are rewritten (biased or penalized) into `logits`
            let sampling = p.temperature > 0
            let topK = sampling && p.topK > 0 && p.topK < n
            let whole = sampling && !topK
            ids = [TokenID](repeating: 0, count: whole ? n : 1)
            logits = [Float](repeating: 0, count: whole || rewrites ? n : 1)
            let second = topK ? p.topK : (whole && p.topP < 1 ? n : 1)
            otherIDs = [TokenID](repeating: 0, count: second)
            otherLogits = [Float](repeating: 0, count: second)
            let rank = whole && p.topP < 1 ? 2 * n : 1
            keys = [UInt32](repeating: 0, count: rank)
            positions = [Int32](repeating: 0, count: rank)
        }

        /// Runs `body` with the base address of every buffer; nil if one had none.
        mutating func withPointers<R>(_ body: (Pointers) -> R) -> R? {
            ids.withUnsafeMutableBufferPointer { ids in
                logits.withUnsafeMutableBufferPointer { logits in
                    otherIDs.withUnsafeMutableBufferPointer { otherIDs in
                        otherLogits.withUnsafeMutableBufferPointer { otherLogits in
                            keys.withUnsafeMutableBufferPointer { keys in
                                positions.withUnsafeMutableBufferPointer { positions in
                                    guard let a = ids.baseAddress, let b = logits.baseAddress,
                                          let c = otherIDs.baseAddress, let d = otherLogits.baseAddress,
                                          let e = keys.baseAddress, let f = positions.baseAddress
                                    else { return nil }
                                    return body(Pointers(ids: a, logits: b, otherIDs: c, otherLogits: d, keys: e,
                                                         positions: f))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private struct Pointers {
        var ids: UnsafeMutablePointer<TokenID>
        var logits: UnsafeMutablePointer<Float>
        var otherIDs: UnsafeMutablePointer<TokenID>
        var otherLogits: UnsafeMutablePointer<Float>
        var keys: UnsafeMutablePointer<UInt32>
        var positions: UnsafeMutablePointer<Int32>
    }

    /// A sampler for a model with `vocabularySize` tokens.
    ///
    /// A repeat penalty that is not a positive finite number is treated as 1 (off), as llama.cpp rejects it;
    /// non-finite frequency and presence penalties are treated as 0.
    public init(parameters: SamplingParameters, vocabularySize: Int) {
        self.parameters = parameters
        self.vocabularySize = max(0, vocabularySize)
        random = parameters.seed.map { RandomSource(seed: $0) } ?? RandomSource()
        history = PenaltyHistory(lastN: parameters.repeatLastN)
        let repeatPenalty = parameters.repeatPenalty.isFinite && parameters.repeatPenalty > 0
            ? parameters.repeatPenalty : 1
        self.repeatPenalty = repeatPenalty
        frequencyPenalty = parameters.frequencyPenalty.isFinite ? parameters.frequencyPenalty : 0
        presencePenalty = parameters.presencePenalty.isFinite ? parameters.presencePenalty : 0
        penaltiesEnabled = parameters.repeatLastN != 0
            && (repeatPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0)
        let n = self.vocabularySize
        bias = parameters.logitBias.filter { $0.key >= 0 && Int($0.key) < n && $0.value.isFinite }
            .map { (Int($0.key), $0.value) }.sorted { $0.index < $1.index }
        rewritesLogits = penaltiesEnabled || !bias.isEmpty
        buffers = Buffers(parameters, vocabularySize: n, rewrites: rewritesLogits)
    }

    /// Records a token (prompt or generated) for the repeat, frequency and presence penalties.
    /// Ids outside the vocabulary are remembered but never penalize anything.
    public mutating func accept(_ token: TokenID) {
        guard penaltiesEnabled else { return }
        history.append(token)
    }

    /// Forgets every accepted token (the random sequence goes on).
    public mutating func resetHistory() {
        history = PenaltyHistory(lastN: parameters.repeatLastN)
    }

    /// Picks the next token from raw logits (`vocabularySize` of them). `logits` itself is never modified.
    /// Does not record the token: call `accept(_:)` with the token you keep.
    public mutating func sample(_ logits: UnsafePointer<Float>) -> TokenID {
        let n = vocabularySize
        guard n > 0 else { return 0 }
        var b = Buffers()
        swap(&b, &buffers)
        defer { swap(&b, &buffers) }
        let chosen = b.withPointers { p -> TokenID in
            // the biased and penalized logits go to the first pair's logits; without either the input is read in
            // place
            var input = logits
            if rewritesLogits {
                p.logits.update(from: logits, count: n)
                for (index, value) in bias { p.logits[index] += value }
                if penaltiesEnabled {
                    history.apply(to: UnsafeMutableBufferPointer(start: p.logits, count: n), repeat: repeatPenalty,
                                  frequency: frequencyPenalty, presence: presencePenalty)
                }
                input = UnsafePointer(p.logits)
            }
            // NaN and non-positive temperatures are greedy
            guard parameters.temperature > 0 else {
                return TokenID(truncatingIfNeeded: CandidateSelection.argmax(input, count: n))
            }
            var chain = CandidateChain(input: input, vocabularySize: n,
                                       pairs: ((p.ids, p.logits), (p.otherIDs, p.otherLogits)),
                                       keys: p.keys, positions: p.positions)
            return chain.run(parameters, random: &random)
        }
        return chosen ?? TokenID(truncatingIfNeeded: CandidateSelection.argmax(logits, count: n))
    }

    /// The index of the largest value, the lowest index among equals; NaN never wins. 0 when all are NaN or -inf.
    public static func argmax(_ values: UnsafePointer<Float>, count: Int) -> TokenID {
        TokenID(truncatingIfNeeded: CandidateSelection.argmax(values, count: count))
    }
}
