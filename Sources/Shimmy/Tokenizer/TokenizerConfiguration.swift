/// Everything a `Tokenizer` is built from: the GGUF `tokenizer.ggml.*` metadata as plain values.
///
/// ```swift
/// var config = TokenizerConfiguration(model: .spm, tokens: ["<unk>", "<s>", "</s>", "▁a"])
/// config.scores = [0, 0, 0, -1]
/// let tokenizer = try Tokenizer(configuration: config)
/// ```
public struct TokenizerConfiguration: Sendable {
    /// `tokenizer.ggml.model`
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
    /// `tokenizer.ggml.eos_token_id`
    public var eosID: TokenID?
    /// `tokenizer.ggml.eot_token_id` (else found by text: `<|eot_id|>`, `<|im_end|>`, ...)
    public var eotID: TokenID?
    /// `tokenizer.ggml.eom_token_id`
    public var eomID: TokenID?
    /// `tokenizer.ggml.unknown_token_id`
    public var unknownID: TokenID?
    /// `tokenizer.ggml.seperator_token_id` (llama.cpp's spelling)
    public var separatorID: TokenID?
    /// `tokenizer.ggml.padding_token_id`
    public var paddingID: TokenID?
    /// `tokenizer.ggml.fim_pre_token_id`
    public var fimPrefixID: TokenID?
    /// `tokenizer.ggml.fim_suf_token_id`
    public var fimSuffixID: TokenID?
    /// `tokenizer.ggml.fim_mid_token_id`
    public var fimMiddleID: TokenID?
    /// `tokenizer.ggml.fim_pad_token_id` (an end-of-generation token)
    public var fimPadID: TokenID?
    /// `tokenizer.ggml.fim_rep_token_id` (an end-of-generation token)
    public var fimRepoID: TokenID?
    /// `tokenizer.ggml.fim_sep_token_id` (an end-of-generation token)
    public var fimSeparatorID: TokenID?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token` / `add_space_prefix` (nil: the model type's default).
    public var addBOS: Bool?
    /// See `addBOS`.
    public var addEOS: Bool?
    /// See `addBOS`.
    public var addSpacePrefix: Bool?
    /// `general.name` (llama.cpp gives Phi-3's special tokens rstrip by name).
    public var modelName: String?

    /// A configuration with the given vocabulary and every optional key absent.
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
