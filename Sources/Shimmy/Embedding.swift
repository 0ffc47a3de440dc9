/// What to embed: text (tokenized as a text prompt is, special tokens parsed and BOS when the model asks for it)
/// or token ids.
public enum EmbeddingInput: Sendable, Equatable {
    /// Text, tokenized as a prompt is.
    case text(String)
    /// Token ids of this model's vocabulary.
    case tokens([TokenID])
}

/// A request for the embedding of one input.
///
/// ```swift
/// let embedding = try await model.embed(EmbeddingRequest(input: .text("The sky is blue")))
/// print(embedding.vector.count, embedding.tokens)
/// ```
public struct EmbeddingRequest: Sendable, Equatable {
    /// What to embed.
    public var input: EmbeddingInput
    /// Scaled to unit length, as Ollama's `/api/embed` and OpenAI's embeddings are (Ollama's older
    /// `/api/embeddings` returns the raw vector).
    public var normalize: Bool
    /// Only the first `dimensions` values, normalized after the cut when `normalize` is set (as Ollama and OpenAI
    /// shorten an embedding); nil keeps them all. Must be 1 to the model's embedding length.
    public var dimensions: Int?
    /// An input longer than the context loses its end instead of failing (Ollama's `truncate`).
    public var truncate: Bool

    public init(input: EmbeddingInput, normalize: Bool = true, dimensions: Int? = nil, truncate: Bool = false) {
        self.input = input
        self.normalize = normalize
        self.dimensions = dimensions
        self.truncate = truncate
    }
}

/// An embedding and what it cost.
public struct Embedding: Sendable, Equatable {
    /// The values: the model's embedding length, or `dimensions` of them.
    public var vector: [Float]
    /// The tokens evaluated (after truncation).
    public var tokens: Int
    /// Whether the input lost its end to fit the context.
    public var truncated: Bool

    public init(vector: [Float], tokens: Int, truncated: Bool = false) {
        self.vector = vector
        self.tokens = tokens
        self.truncated = truncated
    }

    /// `vector` scaled to unit length (unchanged when it is all zeros), as llama.cpp's `common_embd_normalize`
    /// does it: f32 squares summed in double, then one f32 factor.
    static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
        guard norm > 0 else { return vector }
        let scale = Float(1 / norm)
        return vector.map { $0 * scale }
    }
}

extension InferenceSession {
    /// For sessions that compute none: throws `.invalidRequest`.
    public func embed(_ request: EmbeddingRequest) async throws -> Embedding {
        throw ShimmyError(.invalidRequest, "model \(modelName) does not compute embeddings")
    }
}
