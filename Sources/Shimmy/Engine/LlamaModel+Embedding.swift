import Foundation

extension LlamaModel {
    /// The embedding of one input: the final hidden state (after the output norm) of its last token, as llama.cpp
    /// returns a causal model's with last-token pooling and Ollama's runner gives for a model with no pooling of
    /// its own. Only the last row goes through the last layer, as in llama.cpp's generation, whose hidden state
    /// this is bit for bit (llama.cpp's embedding mode runs every row there, which for F16 sums in another order:
    /// ~1e-5 apart). The work runs on its own thread, as a generation's does.
    /// Cancelling the task stops the work at its next layer and throws `CancellationError` once it has stopped.
    public func embed(_ request: EmbeddingRequest) async throws -> Embedding {
        let stop = StopFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread { [self] in
                    continuation.resume(with: Result { try embedding(request, stop: stop) })
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            stop.set()
        }
    }

    /// `embed` on the calling thread. Throws `ShimmyError` `.invalidRequest` for an empty input, an id outside the
    /// vocabulary, `dimensions` out of range, and an input longer than the context unless `truncate` is set;
    /// `CancellationError` when `stop` was set before the work ended.
    public func embedding(_ request: EmbeddingRequest, stop: StopFlag? = nil) throws -> Embedding {
        let length = config.embeddingLength
        if let dimensions = request.dimensions, !(1...length).contains(dimensions) {
            throw ShimmyError(.invalidRequest, "dimensions must be between 1 and \(length)",
                              details: "\(dimensions) requested; \(modelName) gives \(length)")
        }
        var tokens: [TokenID]
        switch request.input {
        case .text(let text): tokens = promptTokens(.text(text))
        case .tokens(let ids): tokens = ids
        }
        guard !tokens.isEmpty else { throw ShimmyError(.invalidRequest, "the input is empty") }
        // checked before a context is taken: its cache holds `contextLength` tokens
        let truncated = tokens.count > contextLength
        if truncated {
            guard request.truncate else {
                throw ShimmyError(.invalidRequest,
                                  "the input is too long for the model's maximum context length of \(contextLength) tokens",
                                  details: "the input has \(tokens.count) tokens")
            }
            tokens.removeLast(tokens.count - contextLength)
        }
        let context = try acquireContext()
        defer { releaseContext(context) }
        try context.claim()
        defer { context.release() }
        var vector = try context.evaluateHeld(tokens, logits: .last, output: .hiddenStates, stop: stop)
        if stop?.isSet == true { throw CancellationError() }
        if let dimensions = request.dimensions { vector.removeLast(vector.count - dimensions) }
        if request.normalize { vector = Embedding.normalized(vector) }
        return Embedding(vector: vector, tokens: tokens.count, truncated: truncated)
    }
}
