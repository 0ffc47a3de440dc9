/// llama.cpp's special-token bookkeeping at load time (`llama_vocab::impl::load`): finds EOT/EOM/FIM tokens by
/// their text, marks control-looking tokens as control, builds the end-of-generation set and the list of
/// tokens that are parsed out of text before BPE/SPM runs.
///
/// Where llama.cpp walks an unordered map and takes the first hit, this takes the lowest id.
struct SpecialTokenDetection {
    let tokenBytes: ByteStrings
    var attributes: [TokenAttributes]
    var eot: TokenID?
    var eom: TokenID?
    var fimPrefix: TokenID?
    var fimSuffix: TokenID?
    var fimMiddle: TokenID?
    var fimPad: TokenID?
    var fimRepo: TokenID?
    var fimSeparator: TokenID?
    private(set) var endOfGeneration: Set<TokenID> = []
    private(set) var specialTokensLongestFirst: [TokenID] = []

    init(tokenBytes: ByteStrings, attributes: [TokenAttributes]) {
        self.tokenBytes = tokenBytes
        self.attributes = attributes
    }

    static let eotNames: Set<String> = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                                        "<end_of_utterance>"]
    static let eomNames: Set<String> = ["<|eom_id|>"]
    static let fimPrefixNames: Set<String> = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
                                              "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]
    static let fimSuffixNames: Set<String> = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
                                              "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]
    static let fimMiddleNames: Set<String> = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
                                              "▁<MID>", "<|code_middle|>", "<|middle|>"]
    static let fimPadNames: Set<String> = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepoNames: Set<String> = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSeparatorNames: Set<String> = ["<|file_sep|>"]
    /// Texts that end a generation whatever their type.
    static let endOfGenerationNames: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]

    mutating func run(eos: TokenID?, modelName: String?) {
        let n = tokenBytes.count
        // every name below is short and starts with `<`, `[`, `_` or `▁`: collect those texts once
        var candidates: [(id: Int, text: String)] = []
        for id in 0..<n where tokenBytes.length(id) >= 3 && tokenBytes.length(id) <= 40 {
            let b = tokenBytes[id]
            let first = b[b.startIndex]
            if first == 0x3C || first == 0x5B || first == 0x5F || first == 0xE2 {
                candidates.append((id, String(decoding: b, as: UTF8.self)))
            }
        }
        var attrs = attributes
        defer { attributes = attrs }
        func find(_ slot: TokenID?, _ names: Set<String>) -> TokenID? {
            if let slot { return slot }
            guard let hit = candidates.first(where: { names.contains($0.text) }) else { return nil }
            attrs[hit.id].insert(.control)
            return TokenID(hit.id)
        }
        eot = find(eot, Self.eotNames)
        eom = find(eom, Self.eomNames)
        fimPrefix = find(fimPrefix, Self.fimPrefixNames)
        fimSuffix = find(fimSuffix, Self.fimSuffixNames)
        fimMiddle = find(fimMiddle, Self.fimMiddleNames)
        fimPad = find(fimPad, Self.fimPadNames)
        fimRepo = find(fimRepo, Self.fimRepoNames)
        fimSeparator = find(fimSeparator, Self.fimSeparatorNames)
        // control tokens named "unused..." are unused
        for id in 0..<n where attrs[id].contains(.control) && !attrs[id].contains(.unused) {
            if String(decoding: tokenBytes[id], as: UTF8.self).contains("unused") { attrs[id].insert(.unused) }
        }
        var eog: Set<TokenID> = []
        for id in [fimPad, fimRepo, fimSeparator].compactMap({ $0 }) { eog.insert(id) }
        for (id, text) in candidates where Self.endOfGenerationNames.contains(text) {
            eog.insert(TokenID(id))
            attrs[id].insert(.control)
        }
        // gpt-oss: these are always rendered
        let alwaysRendered: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
        for (id, text) in candidates where alwaysRendered.contains(text) { attrs[id] = .userDefined }
        for id in [eos, eot, eom].compactMap({ $0 }) { eog.insert(id) }
        // o200k_harmony / solar-open: <|end|> is not an end of generation when <|return|>/<|call|> exist
        var names: [String: TokenID] = [:]
        for id in eog where id >= 0 && Int(id) < n { names[String(decoding: tokenBytes[Int(id)], as: UTF8.self)] = id }
        let hasCall = names["<|call|>"] != nil || names["<|calls|>"] != nil
        if let end = names["<|end|>"], hasCall && (names["<|return|>"] != nil || names["<|flush|>"] != nil) {
            eog.remove(end)
            attrs[Int(end)] = .userDefined
        }
        // gemma4 / plamo: </s> is a normal token
        if let s = names["</s>"], names["<|tool_response>"] != nil || names["<|plamo:eos|>"] != nil {
            eog.remove(s)
            attrs[Int(s)] = .normal
        }
        endOfGeneration = eog

        let special: TokenAttributes = [.control, .userDefined, .unknown]
        let ids = (0..<n).filter { !attrs[$0].isDisjoint(with: special) }
        specialTokensLongestFirst = ids.sorted { a, b in
            tokenBytes.length(a) != tokenBytes.length(b) ? tokenBytes.length(a) > tokenBytes.length(b) : a < b
        }.map { TokenID($0) }

        // Phi-3: special tokens swallow the whitespace after them
        if let name = modelName?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
            for id in specialTokensLongestFirst { attrs[Int(id)].insert(.rstrip) }
            for (id, text) in candidates {
                switch text {
                case "</s>": attrs[id].insert(.rstrip)
                case "<unk>", "<s>", "<|endoftext|>": attrs[id].remove(.rstrip)
                default: break
                }
            }
        }
    }
}
