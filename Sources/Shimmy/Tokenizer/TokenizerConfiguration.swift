/// Everything a `Tokenizer` is built from: the GGUF `tokenizer.ggml.*` metadata as plain values.
///
/// ```swift
/// var config = TokenizerConfiguration(model: .spm, tokens: ["<unk>", "<s>", "</s>", "▁a"])
/// config.scores = [0, 0, 0, -1]
/// let tokenizer = try Tokenizer(configuration: config)
/// ```
public struct TokenizerConfiguration: Sendable {
    public var model: TokenizerModel
    /// `tokenizer.ggml.tokens`
    public var tokens: [String]
    /// `tokenizer.ggml.token_type` (nil: every token is normal)
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.scores`
    public var scores: [Float]?
    /// `tokenizer.ggml.merges` ("left right", in rank order)
    public var merges: [String]
    /// `tokenizer.ggml.pre` (BPE only; nil means llama.cpp's `default`)
    public var pre: String?
    /// Explicit special token ids (`tokenizer.ggml.bos_token_id`, ...). nil: the model type's default.
    public var bosID: TokenID?
    public var eosID: TokenID?
    public var eotID: TokenID?
    public var eomID: TokenID?
    public var unknownID: TokenID?
    public var separatorID: TokenID?
    public var paddingID: TokenID?
    public var fimPrefixID: TokenID?
    public var fimSuffixID: TokenID?
    public var fimMiddleID: TokenID?
    public var fimPadID: TokenID?
    public var fimRepoID: TokenID?
    public var fimSeparatorID: TokenID?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token` / `add_space_prefix` (nil: the model type's default).
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var addSpacePrefix: Bool?
    /// `general.name` (llama.cpp gives Phi-3's special tokens rstrip by name).
    public var modelName: String?

    public init(model: TokenizerModel, tokens: [String], tokenTypes: [Int]? = nil, scores: [Float]? = nil,
                merges: [String] = [], pre: String? = nil) {
        self.model = model
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.pre = pre
    }
}
