/// What kind of token a vocabulary entry is (llama.cpp's `llama_token_attr` bits).
public struct TokenAttributes: OptionSet, Sendable, Hashable {
    /// The bits, as `llama_token_attr` has them.
    public let rawValue: UInt32
    /// Attributes from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The unknown token (`<unk>`).
    public static let unknown = TokenAttributes(rawValue: 1 << 0)
    /// A placeholder that is never produced.
    public static let unused = TokenAttributes(rawValue: 1 << 1)
    /// An ordinary vocabulary entry.
    public static let normal = TokenAttributes(rawValue: 1 << 2)
    /// Control tokens (`<|im_start|>`): parsed from text only with special parsing on.
    public static let control = TokenAttributes(rawValue: 1 << 3)
    /// User-defined tokens: always parsed from text.
    public static let userDefined = TokenAttributes(rawValue: 1 << 4)
    /// `<0xXX>` byte-fallback tokens.
    public static let byte = TokenAttributes(rawValue: 1 << 5)
    /// Not used by the tokenizers here (kept for llama.cpp parity).
    public static let normalized = TokenAttributes(rawValue: 1 << 6)
    /// Whitespace before the token is dropped when it is parsed from text.
    public static let lstrip = TokenAttributes(rawValue: 1 << 7)
    /// Whitespace after the token is dropped when it is parsed from text.
    public static let rstrip = TokenAttributes(rawValue: 1 << 8)
    /// Not used by the tokenizers here (kept for llama.cpp parity).
    public static let singleWord = TokenAttributes(rawValue: 1 << 9)

    /// The attributes of a GGUF `tokenizer.ggml.token_type` value (1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte; anything else undefined).
    public init(ggufTokenType type: Int) {
        switch type {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }
}

/// The tokenizer algorithm (`tokenizer.ggml.model`).
public enum TokenizerModel: String, Sendable {
    /// `gpt2`: byte-level BPE with merges and a pre-tokenizer.
    case bpe = "gpt2"
    /// `llama`: SentencePiece-style, scores, `▁` for spaces, `<0xXX>` byte fallback.
    case spm = "llama"
}
