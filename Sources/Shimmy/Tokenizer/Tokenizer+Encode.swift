extension Tokenizer {
    /// `llama_tokenize(text, add_special, parse_special)`: special tokens written in the text become their ids
    /// when `parseSpecial` is on (user-defined tokens always do), then BPE or SPM runs on the text between them;
    /// `addSpecial` adds BOS/EOS where the model asks for them.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        encode(bytes: Array(text.utf8), addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    /// `encode` for raw bytes; invalid UTF-8 is read the way llama.cpp reads it (each bad byte becomes U+FFFD).
    public func encode(bytes: [UInt8], addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        let fragments = bytes.isEmpty ? [] : partition(bytes, parseSpecial: parseSpecial)
        var output: [TokenID] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && addBOS, let bos = bosToken { output.append(bos) }
        switch model {
        case .bpe:
            var words = WordCache()
            for fragment in fragments {
                switch fragment {
                case .token(let id): output.append(id)
                case .text(let range): encodeBPE(bytes[range], into: &output, words: &words)
                }
            }
        case .spm:
            var previousWasSpecial = true
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    previousWasSpecial = true
                case .text(let range):
                    var text: [UInt8] = addSpacePrefix && previousWasSpecial ? [0x20] : []
                    text.append(contentsOf: bytes[range])
                    SentencePiece.tokenize(Tokenizer.escapeSpaces(text), tokenizer: self, into: &output)
                    previousWasSpecial = false
                }
            }
        }
        if addSpecial && addEOS, let eos = eosToken { output.append(eos) }
        return output
    }

    /// A piece of the input: text still to tokenize, or a special token found in it.
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(TokenID)
    }

    /// `tokenizer_st_partition`: finds special tokens in the text, longest first, leftmost occurrence first.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        let skipped: TokenAttributes = [.control, .unknown]
        for id in specialTokens {
            let attrs = attributes[Int(id)]
            if !parseSpecial && !attrs.isDisjoint(with: skipped) { continue }
            let needle = Array(tokenBytes[Int(id)])
            guard !needle.isEmpty else { continue }
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case .text(let range) = fragment else { next.append(fragment); continue }
                var pos = range.lowerBound
                var found = false
                while pos < range.upperBound, let match = Tokenizer.find(needle, in: bytes, from: pos, to: range.upperBound) {
                    found = true
                    var leftEnd = match
                    if attrs.contains(.lstrip) {
                        while leftEnd > pos && Tokenizer.isCSpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                    }
                    if leftEnd > pos { next.append(.text(pos..<leftEnd)) }
                    next.append(.token(id))
                    pos = match + needle.count
                    if attrs.contains(.rstrip) {
                        while pos < range.upperBound && Tokenizer.isCSpace(bytes[pos]) { pos += 1 }
                    }
                }
                if !found {
                    next.append(fragment)
                } else if pos < range.upperBound {
                    next.append(.text(pos..<range.upperBound))
                }
            }
            fragments = next
        }
        return fragments
    }

    /// C's `isspace` in the C locale.
    @inline(__always) static func isCSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    /// The first index of `needle` in `bytes[from..<to]`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int, to: Int) -> Int? {
        let n = needle.count
        guard n > 0, to - from >= n else { return nil }
        let first = needle[0]
        var i = from
        let last = to - n
        while i <= last {
            if bytes[i] == first {
                var k = 1
                while k < n && bytes[i + k] == needle[k] { k += 1 }
                if k == n { return i }
            }
            i += 1
        }
        return nil
    }

    /// Spaces as U+2581 (`▁`), as SentencePiece vocabularies write them.
    static func escapeSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 8)
        for b in text {
            if b == 0x20 { out.append(contentsOf: [0xE2, 0x96, 0x81]) } else { out.append(b) }
        }
        return out
    }

    /// The tokens of each word seen so far in one `encode` call: a word's tokens depend on nothing else, and
    /// text repeats its words (`shimmy tokenize` of the 1.3 MB perplexity corpus: 0.34–0.50 s before, 0.17 s).
    typealias WordCache = [[UInt8]: [TokenID]]

    /// Pre-tokenizes one text fragment and runs BPE on each word.
    func encodeBPE(_ text: ArraySlice<UInt8>, into output: inout [TokenID], words: inout WordCache) {
        let cpts = LlamaUTF8.codepoints(Array(text))
        var start = 0
        var word: [UInt8] = []
        for length in preTokenizer.split(cpts) {
            word.removeAll(keepingCapacity: true)
            for k in start..<(start + length) { LlamaUTF8.append(cpts[k], to: &word) }
            start += length
            if let tokens = words[word] {
                output.append(contentsOf: tokens)
            } else {
                let tokens = encodeWord(word)
                output.append(contentsOf: tokens)
                words[word] = tokens
            }
        }
    }

    /// BPE on one pre-tokenized word (raw UTF-8 bytes).
    func encodeWord(_ word: [UInt8]) -> [TokenID] {
        guard let merges else { return [] }
        let (encoded, starts) = ByteLevel.encode(word)
        if ignoreMerges, let id = table.find(encoded, in: tokenBytes) { return [id] }
        var output: [TokenID] = []
        for span in merges.merge(encoded, starts: starts) {
            if let id = table.find(encoded[span], in: tokenBytes) {
                output.append(id)
                continue
            }
            // not a token: llama.cpp looks each byte of the byte-level text up as a one-byte token
            for e in encoded[span] {
                if let id = table.find(CollectionOfOne(e), in: tokenBytes) { output.append(id) }
            }
        }
        return output
    }
}
