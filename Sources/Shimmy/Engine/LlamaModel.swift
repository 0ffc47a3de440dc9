import Foundation

/// How a model is loaded.
public struct ModelOptions: Sendable, Equatable {
    /// KV-cache size in tokens; nil means the model's context length capped at 4096.
    public var contextLength: Int?
    /// Worker threads; nil means one per core.
    public var threads: Int?
    public init(contextLength: Int? = nil, threads: Int? = nil) {
        self.contextLength = contextLength
        self.threads = threads
    }
}

/// A loaded llama-family model: weights in place from the mmap, tokenizer, chat template.
/// Shared by any number of generations; each `generate` call gets its own KV cache.
public final class LlamaModel: @unchecked Sendable {
    /// Loads a GGUF file. Throws `ShimmyError` `.modelNotFound` when the file is missing and
    /// `.serverError` when it cannot be loaded (corrupt, unsupported architecture, missing tensors).
    public static func load(path: String, name: String? = nil, options: ModelOptions = ModelOptions()) throws
        -> LlamaModel
    {
        throw ShimmyError(.serverError, "the engine is not built yet", details: path)
    }
}
