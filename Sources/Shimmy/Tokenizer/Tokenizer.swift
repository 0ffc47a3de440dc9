import Logging

/// A model's tokenizer, exactly as llama.cpp tokenizes and detokenizes: byte-level BPE (`gpt2`) with the
/// pre-tokenizers of the common model families, or SentencePiece-style (`llama`) vocabularies.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let tokenizer = try Tokenizer(gguf: file)
/// let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecial: true, parseSpecial: true)
/// print(tokenizer.decode(ids))
/// ```
public final class Tokenizer: Sendable {
    /// The algorithm (`tokenizer.ggml.model`).
    public let model: TokenizerModel
    /// The BPE pre-tokenizer (unused for SPM).
    public let preTokenizer: PreTokenizerKind
    /// Each token's text bytes, by id.
    let tokenBytes: ByteStrings
    /// Each token's attributes, by id.
    public let attributes: [TokenAttributes]
    let scores: [Float]
    let table: TokenTable
    let merges: BPEMerges?
    /// Control, user-defined and unknown tokens, longest text first: the order they are found in text.
    let specialTokens: [TokenID]

    /// The beginning-of-sequence token (`tokenizer.ggml.bos_token_id`, else the model type's default).
    public let bosToken: TokenID?
    /// The end-of-sequence token (`tokenizer.ggml.eos_token_id`, else the model type's default).
    public let eosToken: TokenID?
    /// The end-of-turn token (`<|im_end|>`, `<|eot_id|>`, ...), from metadata or found by its text.
    public let eotToken: TokenID?
    /// The unknown token (SPM byte fallback uses it when a byte has no `<0xXX>` token).
    public let unknownToken: TokenID?
    /// The padding token, when the file names one.
    public let paddingToken: TokenID?
    /// Whether `encode(addSpecial: true)` puts BOS first (`tokenizer.ggml.add_bos_token`, else the model type's default).
    public let addBOS: Bool
    /// Whether `encode(addSpecial: true)` puts EOS last.
    public let addEOS: Bool
    /// SPM: a space is put before text that starts the input or follows a special token.
    public let addSpacePrefix: Bool
    /// llama.cpp's `clean_spaces`: `decode` drops spaces before `?!.,` and in contractions.
    public let cleanSpaces: Bool
    let ignoreMerges: Bool
    /// Every token that ends a generation: EOS, EOT and tokens such as `<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`.
    public let endOfGenerationTokens: Set<TokenID>

    static let logger = Logger(label: "shimmy.tokenizer")

    /// Builds a tokenizer from plain metadata values. Throws `ShimmyError(.serverError)` when the vocabulary is
    /// empty, arrays disagree in length, or the BPE pre-tokenizer is one llama.cpp does not know.
    public init(configuration c: TokenizerConfiguration) throws {
        let n = c.tokens.count
        guard n > 0 else { throw ShimmyError(.serverError, "The model's tokenizer has no tokens", details: "tokenizer.ggml.tokens is empty") }
        guard n < Int(Int32.max) else { throw ShimmyError(.serverError, "The model's vocabulary is too large", details: "\(n) tokens") }
        if let types = c.tokenTypes, types.count < n {
            throw ShimmyError(.serverError, "The model's token types do not cover every token",
                              details: "tokenizer.ggml.token_type has \(types.count) entries for \(n) tokens")
        }
        if let scores = c.scores, scores.count < n {
            throw ShimmyError(.serverError, "The model's token scores do not cover every token",
                              details: "tokenizer.ggml.scores has \(scores.count) entries for \(n) tokens")
        }
        model = c.model

        // settings that depend on the model type and the pre-tokenizer name
        var addBOS: Bool
        var addEOS = false
        var addSpacePrefix: Bool
        var cleanSpaces: Bool
        var ignoreMerges = false
        var bos: TokenID?, eos: TokenID?, unk: TokenID?
        switch c.model {
        case .bpe:
            guard let settings = PreTokenizerKind.settings(forPre: c.pre) else {
                throw ShimmyError(.serverError, "Unknown pre-tokenizer type '\(c.pre ?? "")'",
                                  details: "tokenizer.ggml.pre; supported: default, gpt-2, smollm, starcoder, llama-bpe/llama3, qwen2 and their aliases")
            }
            if c.pre == nil || c.pre?.isEmpty == true {
                Tokenizer.logger.warning("missing pre-tokenizer type, using 'default': generation quality will be degraded")
            }
            preTokenizer = settings.kind
            cleanSpaces = settings.cleanSpaces
            ignoreMerges = settings.ignoreMerges
            addBOS = settings.addBOS
            addSpacePrefix = false
            bos = settings.noBOS ? nil : 11
            eos = 11
        case .spm:
            preTokenizer = .default
            addSpacePrefix = true
            cleanSpaces = false
            addBOS = true
            bos = 1; eos = 2; unk = 0
        }
        if let v = c.addSpacePrefix { addSpacePrefix = v }

        // tokens, scores, attributes (a later duplicate text wins the text → id map, as in llama.cpp)
        var tokenBytes = ByteStrings(reservingCount: n, bytes: c.tokens.reduce(0) { $0 + $1.utf8.count })
        for (i, token) in c.tokens.enumerated() {
            tokenBytes.append(token.isEmpty ? "[EMPTY_\(i)]" : token)
        }
        let attributes = c.tokenTypes.map { types in types.prefix(n).map(TokenAttributes.init(ggufTokenType:)) }
            ?? [TokenAttributes](repeating: .normal, count: n)
        self.tokenBytes = tokenBytes
        table = TokenTable(tokens: tokenBytes)
        self.scores = c.scores.map { Array($0.prefix(n)) } ?? [Float](repeating: 0, count: n)
        merges = c.model == .bpe ? BPEMerges(merges: c.merges) : nil

        func valid(_ id: TokenID?, default fallback: TokenID?) -> TokenID? {
            let fallbackValid = fallback.flatMap { $0 >= 0 && Int($0) < n ? $0 : nil }
            guard let id else { return fallbackValid }
            return id >= 0 && Int(id) < n ? id : fallbackValid
        }
        bos = valid(c.bosID, default: bos)
        eos = valid(c.eosID, default: eos)
        unk = valid(c.unknownID, default: unk)
        if let v = c.addBOS { addBOS = v }
        if let v = c.addEOS { addEOS = v }

        var specials = SpecialTokenDetection(tokenBytes: tokenBytes, attributes: attributes)
        specials.eot = valid(c.eotID, default: nil)
        specials.eom = valid(c.eomID, default: nil)
        specials.fimPrefix = valid(c.fimPrefixID, default: nil)
        specials.fimSuffix = valid(c.fimSuffixID, default: nil)
        specials.fimMiddle = valid(c.fimMiddleID, default: nil)
        specials.fimPad = valid(c.fimPadID, default: nil)
        specials.fimRepo = valid(c.fimRepoID, default: nil)
        specials.fimSeparator = valid(c.fimSeparatorID, default: nil)
        specials.run(eos: eos, modelName: c.modelName)
        self.attributes = specials.attributes
        self.bosToken = bos
        self.eosToken = eos
        self.eotToken = specials.eot
        self.unknownToken = unk
        self.paddingToken = valid(c.paddingID, default: nil)
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.cleanSpaces = cleanSpaces
        self.ignoreMerges = ignoreMerges
        self.endOfGenerationTokens = specials.endOfGeneration
        self.specialTokens = specials.specialTokensLongestFirst
    }

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { tokenBytes.count }

    /// Whether a token ends a generation.
    public func isEndOfGeneration(_ id: TokenID) -> Bool { endOfGenerationTokens.contains(id) }

    /// The token's text as stored in the vocabulary (`Ġhello`, `▁hello`, `<|im_end|>`); nil for an id out of range.
    public func tokenText(_ id: TokenID) -> String? {
        guard id >= 0, Int(id) < tokenBytes.count else { return nil }
        return String(decoding: tokenBytes[Int(id)], as: UTF8.self)
    }

    /// The id of the token whose text is exactly `text`.
    public func tokenID(forText text: String) -> TokenID? { table.find(Array(text.utf8), in: tokenBytes) }

    func token(forText bytes: ArraySlice<UInt8>) -> TokenID? { table.find(bytes, in: tokenBytes) }

    func score(of id: TokenID) -> Float { scores[Int(id)] }

    /// `byte_to_token` for SPM: `<0xXX>`, else the byte as a one-byte token, else the unknown token.
    func byteToken(_ byte: UInt8) -> TokenID? {
        let hex = Array("0123456789ABCDEF".utf8)
        let name: [UInt8] = [0x3C, 0x30, 0x78, hex[Int(byte >> 4)], hex[Int(byte & 15)], 0x3E]
        return table.find(name, in: tokenBytes) ?? table.find([byte], in: tokenBytes) ?? unknownToken
    }
}
