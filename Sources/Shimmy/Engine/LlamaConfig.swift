import GGUF

/// The hyperparameters of a llama-family model, read from GGUF keys (`{arch}.embedding_length`, ...).
/// Field names are the keys in camelCase so that a grep finds both.
public struct LlamaConfig: Sendable, Equatable {
    /// `general.architecture`.
    public var architecture: String
    /// `{arch}.context_length`: the context the model was trained for.
    public var contextLength: Int
    /// `{arch}.embedding_length`.
    public var embeddingLength: Int
    /// `{arch}.block_count`.
    public var blockCount: Int
    /// `{arch}.feed_forward_length`.
    public var feedForwardLength: Int
    /// `{arch}.attention.head_count`.
    public var headCount: Int
    /// `{arch}.attention.head_count_kv` (default: `headCount`).
    public var headCountKV: Int
    /// `{arch}.attention.key_length` (default: `embeddingLength / headCount`).
    public var headDimension: Int
    /// `{arch}.attention.layer_norm_rms_epsilon` (default 1e-5).
    public var rmsNormEpsilon: Float
    /// `{arch}.rope.freq_base` (default 10000).
    public var ropeFreqBase: Float
    /// `{arch}.rope.dimension_count` (default: `headDimension`).
    public var ropeDimensionCount: Int
    /// 1 / `{arch}.rope.scaling.factor` for linear scaling, else 1.
    public var ropeFreqScale: Float
    /// Rows of `token_embd.weight`.
    public var vocabularySize: Int

    /// Width of the key and value rows of one position: `headCountKV * headDimension`.
    public var kvDimension: Int { headCountKV * headDimension }
    /// Width of the query rows: `headCount * headDimension`.
    public var queryDimension: Int { headCount * headDimension }

    /// Architectures that share llama's tensor layout and keys.
    public static let supportedArchitectures: Set<String> = ["llama", "mistral"]

    /// Reads the config from a GGUF file; a missing required key fails with the key's name.
    public init(gguf: GGUFFile) throws(ShimmyError) {
        guard let arch = gguf["general.architecture"]?.stringValue else {
            throw ShimmyError(.serverError, "the model has no general.architecture key")
        }
        guard Self.supportedArchitectures.contains(arch) else {
            throw ShimmyError(.serverError, "unsupported architecture '\(arch)'",
                              details: "shimmy runs llama-family models (llama, mistral)")
        }
        func required(_ key: String) throws(ShimmyError) -> Int {
            guard let v = gguf["\(arch).\(key)"]?.intValue, v > 0 else {
                throw ShimmyError(.serverError, "the model is missing the key \(arch).\(key)")
            }
            return v
        }
        architecture = arch
        embeddingLength = try required("embedding_length")
        blockCount = try required("block_count")
        feedForwardLength = try required("feed_forward_length")
        headCount = try required("attention.head_count")
        contextLength = gguf["\(arch).context_length"]?.intValue ?? 2048
        headCountKV = gguf["\(arch).attention.head_count_kv"]?.intValue ?? headCount
        headDimension = gguf["\(arch).attention.key_length"]?.intValue ?? embeddingLength / headCount
        rmsNormEpsilon = gguf["\(arch).attention.layer_norm_rms_epsilon"]?.floatValue ?? 1e-5
        ropeFreqBase = gguf["\(arch).rope.freq_base"]?.floatValue ?? 10000
        ropeDimensionCount = gguf["\(arch).rope.dimension_count"]?.intValue ?? headDimension
        var scale: Float = 1
        if let type = gguf["\(arch).rope.scaling.type"]?.stringValue, type == "linear",
           let factor = gguf["\(arch).rope.scaling.factor"]?.floatValue, factor > 0 {
            scale = 1 / factor
        } else if let factor = gguf["\(arch).rope.scale_linear"]?.floatValue, factor > 0 {
            scale = 1 / factor
        }
        ropeFreqScale = scale
        guard let embd = gguf.tensor(named: "token_embd.weight"), embd.dimensions.count == 2 else {
            throw ShimmyError(.serverError, "the model is missing the tensor token_embd.weight")
        }
        vocabularySize = embd.dimensions[1]
        // Bounds far beyond any real model, so that the products below and the buffers sized from them cannot
        // overflow whatever a file claims.
        func check(_ value: Int, _ key: String, _ range: ClosedRange<Int>) throws(ShimmyError) {
            guard range.contains(value) else {
                throw ShimmyError(.serverError, "\(arch).\(key) is \(value), outside \(range.lowerBound)...\(range.upperBound)")
            }
        }
        try check(embeddingLength, "embedding_length", 1...(1 << 17))
        try check(blockCount, "block_count", 1...(1 << 12))
        try check(feedForwardLength, "feed_forward_length", 1...(1 << 20))
        try check(headCount, "attention.head_count", 1...(1 << 12))
        try check(headCountKV, "attention.head_count_kv", 1...headCount)
        try check(headDimension, "attention.key_length", 2...(1 << 12))
        try check(ropeDimensionCount, "rope.dimension_count", 0...headDimension)
        try check(contextLength, "context_length", 1...(1 << 24))
        guard headCount % headCountKV == 0 else {
            throw ShimmyError(.serverError, "head_count \(headCount) is not a multiple of head_count_kv \(headCountKV)")
        }
        guard ropeDimensionCount % 2 == 0, headDimension % 2 == 0 else {
            throw ShimmyError(.serverError, "rope.dimension_count \(ropeDimensionCount) does not fit head size \(headDimension)")
        }
    }
}
