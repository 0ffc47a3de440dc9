import Foundation

/// The outcome of a perplexity run.
public struct PerplexityResult: Sendable, Equatable, Codable {
    /// exp(mean negative log-likelihood).
    public var perplexity: Double
    /// llama-perplexity's standard-error estimate of the perplexity.
    public var error: Double
    /// Chunks evaluated.
    public var chunks: Int
    /// Tokens per chunk.
    public var contextSize: Int
    /// Predictions scored.
    public var scoredTokens: Int
    /// Tokens in the whole text.
    public var textTokens: Int
    /// The estimate after each chunk.
    public var runningEstimates: [Double]
}

extension LlamaModel {
    /// Perplexity over `text` with llama-perplexity's method: the text is tokenized once (special tokens not
    /// parsed, BOS as the model asks), cut into consecutive chunks of `contextSize` tokens, each evaluated from an
    /// empty cache (its first token replaced by BOS when the model adds one), and only the second half of each
    /// chunk scored. `progress` gets the chunk index and the running estimate.
    public func perplexity(text: [UInt8], contextSize: Int = 512, chunks: Int? = nil, threads: Int? = nil,
                           progress: ((Int, Double) -> Void)? = nil) throws -> PerplexityResult {
        guard contextSize >= 4 else {
            throw ShimmyError(.invalidRequest, "the context size for perplexity must be at least 4")
        }
        let tokens = tokenizer.encode(bytes: text, addSpecial: true, parseSpecial: false)
        guard tokens.count >= 2 * contextSize else {
            throw ShimmyError(.invalidRequest, "the text is too short for perplexity",
                              details: "\(tokens.count) tokens; at least \(2 * contextSize) are needed (2 × ctx)")
        }
        var chunkCount = tokens.count / contextSize
        if let chunks, chunks > 0 { chunkCount = min(chunkCount, chunks) }
        let context = try makeContext(capacity: contextSize, threads: threads)
        let first = contextSize / 2
        let vocab = config.vocabularySize
        var nll = 0.0, nll2 = 0.0, count = 0
        var running: [Double] = []
        for chunk in 0..<chunkCount {
            let start = chunk * contextSize
            var batch = Array(tokens[start..<(start + contextSize)])
            if tokenizer.addBOS, let bos = tokenizer.bosToken { batch[0] = bos }
            try context.truncate(to: 0)
            let logits = try context.evaluate(batch, logits: .range(first..<(contextSize - 1)))
            logits.withUnsafeBufferPointer { all in
                for j in first..<(contextSize - 1) {
                    let row = all.baseAddress! + (j - first) * vocab
                    let v = -Self.logSoftmax(row, count: vocab, target: Int(tokens[start + j + 1]))
                    nll += v
                    nll2 += v * v
                }
            }
            count += contextSize - first - 1
            running.append(Foundation.exp(nll / Double(count)))
            progress?(chunk, running[chunk])
        }
        let mean = nll / Double(count)
        var variance = nll2 / Double(count) - mean * mean
        variance = variance > 0 ? (variance / Double(count - 1)).squareRoot() : 0
        let ppl = Foundation.exp(mean)
        return PerplexityResult(perplexity: ppl, error: variance * ppl, chunks: chunkCount, contextSize: contextSize,
                                scoredTokens: count, textTokens: tokens.count, runningEstimates: running)
    }

    /// log softmax(logits)[target], as llama-perplexity computes it (float max, double sum of float exps).
    static func logSoftmax(_ logits: UnsafePointer<Float>, count: Int, target: Int) -> Double {
        var maxLogit = logits[0]
        for i in 1..<count where logits[i] > maxLogit { maxLogit = logits[i] }
        var sum = 0.0
        for i in 0..<count { sum += Double(Foundation.exp(logits[i] - maxLogit)) }
        return Double(logits[target] - maxLogit) - Foundation.log(sum)
    }
}
