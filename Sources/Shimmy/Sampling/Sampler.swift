import Foundation

/// Picks each next token from the model's logits with llama.cpp's default sampler chain:
/// penalties → top-k → top-p → min-p → temperature → a draw from the remaining distribution.
///
/// A temperature of 0 (or less) is greedy: the highest penalized logit, ties going to the lowest id.
/// A fixed `seed` gives the same tokens for the same logits on every run and at every thread count.
///
/// ```swift
/// var sampler = Sampler(parameters: SamplingParameters(temperature: 0.8, seed: 7), vocabularySize: 49152)
/// for token in promptTokens { sampler.accept(token) }
/// let next = logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!) }
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

    /// Scratch space, allocated once: two candidate lists and radix-sort space.
    private struct Buffers: Sendable {
        var ids: [TokenID] = []
        var logits: [Float] = []
        var otherIDs: [TokenID] = []
        var otherLogits: [Float] = []
        var keys: [UInt32] = []
        var positions: [Int32] = []
    }

    /// A sampler for a model with `vocabularySize` tokens.
    ///
    /// A repeat penalty that is not a positive finite number is treated as 1 (off), as llama.cpp rejects it.
    public init(parameters: SamplingParameters, vocabularySize: Int) {
        self.parameters = parameters
        self.vocabularySize = max(0, vocabularySize)
        random = parameters.seed.map { RandomSource(seed: $0) } ?? RandomSource()
        history = PenaltyHistory(lastN: parameters.repeatLastN)
        let repeatPenalty = parameters.repeatPenalty.isFinite && parameters.repeatPenalty > 0
            ? parameters.repeatPenalty : 1
        self.repeatPenalty = repeatPenalty
        let frequency = parameters.frequencyPenalty.isFinite ? parameters.frequencyPenalty : 0
        let presence = parameters.presencePenalty.isFinite ? parameters.presencePenalty : 0
        penaltiesEnabled = parameters.repeatLastN != 0 && (repeatPenalty != 1 || frequency != 0 || presence != 0)
        let n = self.vocabularySize
        buffers = Buffers(ids: [TokenID](repeating: 0, count: n), logits: [Float](repeating: 0, count: n),
                          otherIDs: [TokenID](repeating: 0, count: n), otherLogits: [Float](repeating: 0, count: n),
                          keys: [UInt32](repeating: 0, count: 2 * n), positions: [Int32](repeating: 0, count: 2 * n))
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
        let frequency = parameters.frequencyPenalty.isFinite ? parameters.frequencyPenalty : 0
        let presence = parameters.presencePenalty.isFinite ? parameters.presencePenalty : 0
        return b.logits.withUnsafeMutableBufferPointer { scratch in
            // the penalized logits go to scratch; without penalties the input is read in place
            var input = logits
            if penaltiesEnabled {
                scratch.baseAddress!.update(from: logits, count: n)
                history.apply(to: scratch, repeat: repeatPenalty, frequency: frequency, presence: presence)
                input = UnsafePointer(scratch.baseAddress!)
            }
            // NaN and non-positive temperatures are greedy
            guard parameters.temperature > 0 else {
                return TokenID(truncatingIfNeeded: CandidateSelection.argmax(input, count: n))
            }
            return b.ids.withUnsafeMutableBufferPointer { ids in
                b.otherIDs.withUnsafeMutableBufferPointer { otherIDs in
                    b.otherLogits.withUnsafeMutableBufferPointer { otherLogits in
                        b.keys.withUnsafeMutableBufferPointer { keys in
                            b.positions.withUnsafeMutableBufferPointer { positions in
                                var chain = CandidateChain(
                                    input: input, vocabularySize: n,
                                    pairs: ((ids.baseAddress!, scratch.baseAddress!),
                                            (otherIDs.baseAddress!, otherLogits.baseAddress!)),
                                    keys: keys.baseAddress!, positions: positions.baseAddress!)
                                return chain.run(parameters, random: &random)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The index of the largest value, the lowest index among equals; NaN never wins. 0 when all are NaN or -inf.
    public static func argmax(_ values: UnsafePointer<Float>, count: Int) -> TokenID {
        TokenID(truncatingIfNeeded: CandidateSelection.argmax(values, count: count))
    }
}
