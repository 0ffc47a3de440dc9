import Foundation
import Shimmy

/// Embedding endpoints: `/v1/embeddings` (OpenAI), `/api/embed` and the older `/api/embeddings` (Ollama).
/// Each input's embedding is the last token's final hidden state (`LlamaModel.embed`).
extension Routes {
    /// POST /v1/embeddings: `{object: "list", data: [{object: "embedding", index, embedding}], model, usage}`;
    /// `embedding` is an array of numbers, or with `encoding_format: "base64"` (the openai client's default) the
    /// base64 of its little-endian f32 values.
    func openAIEmbeddings() throws -> RouteOutcome {
        let decoded = try EmbeddingRequestDecoder.openAI(request.body)
        let session = try session(named: decoded.model)
        guard let results = try embed(decoded, in: session) else { return .streamed(status: 499, reusable: false) }
        let data = results.enumerated().map { index, embedding -> JSONValue in
            ["object": "embedding", "index": .int(index),
             "embedding": decoded.base64 ? .string(Self.base64(embedding.vector)) : JSONValue.numbers(embedding.vector)]
        }
        let tokens = results.reduce(0) { $0 + $1.tokens }
        return .response(.json(["object": "list", "data": .array(data), "model": .string(session.modelName),
                                "usage": ["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)]]))
    }

    /// POST /api/embed: `{model, embeddings, total_duration, load_duration, prompt_eval_count}` (durations in
    /// nanoseconds); no input answers `{model, embeddings: []}` once the model is loaded, as Ollama does.
    func ollamaEmbed() throws -> RouteOutcome {
        let decoded = try EmbeddingRequestDecoder.ollamaEmbed(request.body)
        let start = DispatchTime.now()
        let session = try session(named: decoded.model)
        let loaded = DispatchTime.now()
        let model = ("model", JSONValue.string(decoded.model ?? "default"))
        guard !decoded.inputs.isEmpty else { return .response(.json(.object([model, ("embeddings", [])]))) }
        guard let results = try embed(decoded, in: session) else { return .streamed(status: 499, reusable: false) }
        let end = DispatchTime.now()
        return .response(.json(.object([
            model, ("embeddings", .array(results.map { JSONValue.numbers($0.vector) })),
            ("total_duration", .int(Int(end.uptimeNanoseconds - start.uptimeNanoseconds))),
            ("load_duration", .int(Int(loaded.uptimeNanoseconds - start.uptimeNanoseconds))),
            ("prompt_eval_count", .int(results.reduce(0) { $0 + $1.tokens })),
        ])))
    }

    /// POST /api/embeddings: `{embedding}`, the raw vector; no prompt answers `{embedding: []}`.
    func ollamaEmbeddings() throws -> RouteOutcome {
        let decoded = try EmbeddingRequestDecoder.ollamaEmbeddings(request.body)
        let session = try session(named: decoded.model)
        guard !decoded.inputs.isEmpty else { return .response(.json(["embedding": []])) }
        guard let results = try embed(decoded, in: session) else { return .streamed(status: 499, reusable: false) }
        return .response(.json(["embedding": JSONValue.numbers(results.first?.vector ?? [])]))
    }

    /// The inputs' embeddings in order, computed holding one generation slot (the work is a prompt's); nil when
    /// the client goes away while the request waits or while it runs (the work then stops within a layer).
    private func embed(_ decoded: DecodedEmbedding, in session: any InferenceSession) throws -> [Embedding]? {
        var decoded = decoded
        let length = session.details.embeddingLength
        if let dimensions = decoded.dimensions, length > 0, dimensions > length {
            guard decoded.wholeVectorBeyondLength else {
                throw APIError.invalidRequest("Field 'dimensions' is out of range",
                                              details: "'dimensions' must be in 1...\(length) for \(session.modelName), got \(dimensions)",
                                              param: "dimensions")
            }
            // Ollama shortens only: more dimensions than the model has give the whole vector
            decoded.dimensions = nil
        }
        try check(decoded, in: session)
        let connection = self.connection
        do {
            return try withSlot {
                var results: [Embedding] = []
                for input in decoded.inputs {
                    let request = decoded.request(input)
                    results.append(try blockingAwait(abandoned: { connection.peerClosed }, { try await session.embed(request) }))
                }
                context.logger.debug("embeddings", metadata: [
                    "model": .string(session.modelName), "inputs": .stringConvertible(results.count),
                    "tokens": .stringConvertible(results.reduce(0) { $0 + $1.tokens }),
                ])
                return results
            }
        } catch GenerationInterruption.clientGone {
            return nil
        }
    }

    /// Checks every input before any is evaluated, so that a bad one late in a batch costs no work: it must have
    /// tokens, fit the context unless `truncate` cuts it, and hold only ids of the vocabulary. The error names the
    /// input as the request did (`param`). Texts are tokenized here and again by the session: a small cost beside
    /// evaluating them.
    private func check(_ decoded: DecodedEmbedding, in session: any InferenceSession) throws {
        let vocabulary = session.details.vocabularySize
        for (input, name) in zip(decoded.inputs, decoded.names) {
            let count: Int
            switch input {
            case .text(let text):
                count = try session.countTokens(.text(text))
            case .tokens(let ids):
                count = ids.count
                if vocabulary > 0, let bad = ids.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
                    throw APIError.invalidRequest("Field '\(name)[\(bad)]' is outside the vocabulary",
                                                  details: "token id \(ids[bad]); \(session.modelName) has \(vocabulary) tokens. Token ids must be this model's (see shimmy tokenize): a client that tokenizes for another model, such as LangChain's OpenAIEmbeddings with tiktoken, must send text (check_embedding_ctx_length=False)",
                                                  param: "\(name)[\(bad)]")
                }
            }
            guard count > 0 else {
                throw APIError.invalidRequest("Field '\(name)' is empty", details: "it has no tokens", param: name)
            }
            guard decoded.truncate || count <= session.contextLength else {
                throw APIError.contextExceeded("The input", contextLength: session.contextLength,
                                               details: "'\(name)' has \(count) tokens", param: name)
            }
        }
    }

    /// The base64 of the vector's little-endian f32 values (OpenAI's `encoding_format: "base64"`).
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return Data(bytes).base64EncodedString()
    }
}
