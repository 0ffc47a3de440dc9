import GGUF

extension TokenizerConfiguration {
    /// Reads the `tokenizer.ggml.*` keys of a GGUF file. Throws `ShimmyError(.serverError)` naming the key when
    /// a required one is missing or has the wrong type, or when the tokenizer model is not `gpt2` or `llama`.
    public init(gguf file: GGUFFile) throws {
        guard let modelName = file["tokenizer.ggml.model"]?.stringValue else {
            throw ShimmyError(.serverError, "The model file has no tokenizer", details: "tokenizer.ggml.model is missing")
        }
        let model: TokenizerModel
        switch modelName {
        case "gpt2": model = .bpe
        case "llama": model = .spm
        default:
            throw ShimmyError(.serverError, "Unsupported tokenizer model '\(modelName)'",
                              details: "tokenizer.ggml.model; supported: gpt2 (byte-level BPE), llama (SentencePiece)")
        }
        guard let tokens = file["tokenizer.ggml.tokens"]?.stringArray else {
            throw ShimmyError(.serverError, "The model file has no token list",
                              details: "tokenizer.ggml.tokens is missing or not an array of strings")
        }
        self.init(model: model, tokens: tokens)
        if let value = file["tokenizer.ggml.token_type"] {
            guard let types = value.intArray else {
                throw ShimmyError(.serverError, "Invalid token types", details: "tokenizer.ggml.token_type is not an integer array")
            }
            tokenTypes = types
        }
        if let value = file["tokenizer.ggml.scores"] {
            guard let scores = value.floatArray else {
                throw ShimmyError(.serverError, "Invalid token scores", details: "tokenizer.ggml.scores is not a numeric array")
            }
            self.scores = scores
        }
        if model == .bpe {
            guard let merges = file["tokenizer.ggml.merges"]?.stringArray else {
                throw ShimmyError(.serverError, "The model file has no BPE merges",
                                  details: "tokenizer.ggml.merges is missing or not an array of strings")
            }
            self.merges = merges
            pre = file["tokenizer.ggml.pre"]?.stringValue
        }
        func id(_ key: String) -> TokenID? {
            guard let v = file["tokenizer.ggml.\(key)"]?.intValue, v >= 0, v <= Int(Int32.max) else { return nil }
            return TokenID(v)
        }
        bosID = id("bos_token_id")
        eosID = id("eos_token_id")
        eotID = id("eot_token_id")
        eomID = id("eom_token_id")
        unknownID = id("unknown_token_id")
        separatorID = id("seperator_token_id")
        paddingID = id("padding_token_id")
        fimPrefixID = id("fim_pre_token_id") ?? id("prefix_token_id")
        fimSuffixID = id("fim_suf_token_id") ?? id("suffix_token_id")
        fimMiddleID = id("fim_mid_token_id") ?? id("middle_token_id")
        fimPadID = id("fim_pad_token_id")
        fimRepoID = id("fim_rep_token_id")
        fimSeparatorID = id("fim_sep_token_id")
        addBOS = file["tokenizer.ggml.add_bos_token"]?.boolValue
        addEOS = file["tokenizer.ggml.add_eos_token"]?.boolValue
        addSpacePrefix = file["tokenizer.ggml.add_space_prefix"]?.boolValue
        self.modelName = file["general.name"]?.stringValue
    }
}

extension Tokenizer {
    /// Builds the tokenizer of a GGUF model (see `TokenizerConfiguration.init(gguf:)` for what it reads).
    public convenience init(gguf file: GGUFFile) throws {
        try self.init(configuration: TokenizerConfiguration(gguf: file))
    }
}
