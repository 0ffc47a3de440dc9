/// The word splitting that runs before BPE, as llama.cpp does it for each `tokenizer.ggml.pre` family
/// (`llm_tokenizer_bpe` regex lists and the hand-written matchers of `unicode.cpp`).
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// No or unknown-but-`default` pre-tokenizer: punctuation runs, the GPT-2 regex, number runs, digit triples.
    case `default`
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
    case gpt2
    /// Every number code point on its own, then the GPT-2 regex (smollm, starcoder, refact, command-r, ...).
    case smollm
    /// The Llama 3 regex: case-insensitive contractions, `\p{N}{1,3}`, newline-aware whitespace.
    case llama3
    /// Like Llama 3 with single digits (qwen2, stablelm2, ...).
    case qwen2
    /// Qwen2 with combining marks counted as letters (`[\p{L}\p{M}]+`).
    case qwen35

    /// The settings llama.cpp derives from a `tokenizer.ggml.pre` name; nil for a name it does not know.
    struct Settings {
        var kind: PreTokenizerKind
        var cleanSpaces: Bool
        var ignoreMerges: Bool
        /// The `add_bos` default (before `tokenizer.ggml.add_bos_token` is read).
        var addBOS: Bool
        /// The pre-tokenizer has no BOS token by default (ChatGLM).
        var noBOS = false
    }

    /// llama.cpp's `tokenizer.ggml.pre` table, for the names whose regex is one of the kinds above.
    static func settings(forPre name: String?) -> Settings? {
        func s(_ kind: PreTokenizerKind, clean: Bool = true, ignoreMerges: Bool = false, addBOS: Bool = false,
               noBOS: Bool = false) -> Settings {
            Settings(kind: kind, cleanSpaces: clean, ignoreMerges: ignoreMerges, addBOS: addBOS, noBOS: noBOS)
        }
        guard let name, !name.isEmpty else { return s(.default) }
        switch name {
        case "default":
            return s(.default)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return s(.llama3, ignoreMerges: true, addBOS: true)
        case "dbrx", "smaug-bpe":
            return s(.llama3)
        case "chatglm-bpe":
            return s(.llama3, noBOS: true)
        case "glm4", "glm5":
            return s(.llama3, ignoreMerges: true, noBOS: true)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
             "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "exaone4", "jais":
            return s(.gpt2)
        case "trillion", "granite-docling":
            return s(.gpt2, clean: false)
        case "smollm", "command-r":
            return s(.smollm, clean: false)
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            return s(.smollm)
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2":
            return s(.qwen2, clean: false)
        case "stablelm2", "megrez":
            return s(.qwen2)
        case "qwen35":
            return s(.qwen35, clean: false)
        default:
            return nil
        }
    }

    /// The words this pre-tokenizer splits a text into (before byte-level encoding), for inspection and tests.
    public func words(_ text: String) -> [String] {
        let cpts = LlamaUTF8.codepoints(Array(text.utf8))
        var out: [String] = []
        var start = 0
        for length in split(cpts) {
            var bytes: [UInt8] = []
            for k in start..<(start + length) { LlamaUTF8.append(cpts[k], to: &bytes) }
            out.append(String(decoding: bytes, as: UTF8.self))
            start += length
        }
        return out
    }

    /// Splits `cpts` into words; returns each word's length in code points.
    func split(_ cpts: [UInt32]) -> [Int] {
        guard !cpts.isEmpty else { return [] }
        let whole = [cpts.count]
        switch self {
        case .gpt2:
            return PreTokenizerPasses.gpt2(cpts, whole)
        case .smollm:
            return PreTokenizerPasses.gpt2(cpts, PreTokenizerPasses.isolateSingleNumbers(cpts, whole))
        case .llama3:
            return PreTokenizerPasses.llama3(cpts, whole, digitRun: 3)
        case .qwen2:
            return PreTokenizerPasses.llama3(cpts, whole, digitRun: 1)
        case .qwen35:
            return PreTokenizerPasses.llama3(cpts, whole, digitRun: 1, marksAreLetters: true)
        case .default:
            var parts = PreTokenizerPasses.punctuationRuns(cpts, whole)
            parts = PreTokenizerPasses.gpt2(cpts, parts)
            parts = PreTokenizerPasses.numberRuns(cpts, parts)
            return PreTokenizerPasses.asciiDigitTriples(cpts, parts)
        }
    }
}

/// One regex pass each: takes the pieces so far (lengths in code points) and splits each further.
enum PreTokenizerPasses {
    /// A cursor over one piece: code points and flags read as "nothing" outside it, as llama.cpp's
    /// `_get_cpt`/`_get_flags` do.
    private struct Piece {
        let cpts: UnsafeBufferPointer<UInt32>
        let start: Int
        let end: Int
        static let outside: UInt32 = 0xFFFF_FFFF
        @inline(__always) func cpt(_ i: Int) -> UInt32 { i >= start && i < end ? cpts[i] : Piece.outside }
        @inline(__always) func flags(_ i: Int) -> CodepointFlags {
            i >= start && i < end ? CodepointFlags.of(cpts[i]) : .outOfRange
        }
    }

    /// Runs `body` over each piece with an "emit up to" callback; lengths of zero are dropped.
    private static func eachPiece(_ cpts: [UInt32], _ lengths: [Int],
                                  _ body: (Piece, _ emit: (Int) -> Void) -> Void) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(lengths.count * 2)
        cpts.withUnsafeBufferPointer { buffer in
            var start = 0
            for length in lengths {
                let piece = Piece(cpts: buffer, start: start, end: start + length)
                var previousEnd = start
                body(piece) { end in
                    if end > previousEnd { out.append(end - previousEnd) }
                    previousEnd = end
                }
                start += length
            }
        }
        return out
    }

    /// Splits each piece into runs where `match(position) -> length` finds a match (0: none), the way
    /// `std::regex_iterator` leaves text between matches as its own piece.
    private static func isolate(_ cpts: [UInt32], _ lengths: [Int], _ match: (Piece, Int) -> Int) -> [Int] {
        eachPiece(cpts, lengths) { piece, emit in
            var pos = piece.start
            while pos < piece.end {
                let n = match(piece, pos)
                if n > 0 {
                    emit(pos)
                    pos += n
                    emit(pos)
                } else {
                    pos += 1
                }
            }
            emit(piece.end)
        }
    }

    /// `\p{N}` on llama.cpp's collapsed text: an ASCII digit or a non-ASCII number that is not whitespace.
    @inline(__always) private static func collapsedNumber(_ cpt: UInt32) -> Bool {
        if cpt < 128 { return cpt >= 0x30 && cpt <= 0x39 }
        let f = CodepointFlags.of(cpt)
        return !f.isWhitespace && f.category == .number
    }

    /// `\p{N}`: every number code point becomes its own piece.
    static func isolateSingleNumbers(_ cpts: [UInt32], _ lengths: [Int]) -> [Int] {
        isolate(cpts, lengths) { piece, pos in collapsedNumber(piece.cpts[pos]) ? 1 : 0 }
    }

    /// `\p{N}+`
    static func numberRuns(_ cpts: [UInt32], _ lengths: [Int]) -> [Int] {
        isolate(cpts, lengths) { piece, pos in
            var end = pos
            while end < piece.end && collapsedNumber(piece.cpts[end]) { end += 1 }
            return end - pos
        }
    }

    /// `[\p{P}\$\+<=>\^~\|]+` on the collapsed text.
    static func punctuationRuns(_ cpts: [UInt32], _ lengths: [Int]) -> [Int] {
        @inline(__always) func member(_ cpt: UInt32) -> Bool {
            if cpt < 128 {
                switch cpt {
                case 0x21...0x2A, 0x2B, 0x2C...0x2F, 0x3A...0x3B, 0x3C...0x3E, 0x3F...0x40, 0x5B...0x5D, 0x5E, 0x5F,
                     0x7B...0x7E:
                    return true  // ASCII punctuation plus $ + < = > ^ | ~ (` is not in the class)
                default:
                    return false
                }
            }
            let f = CodepointFlags.of(cpt)
            return !f.isWhitespace && f.category == .punctuation
        }
        return isolate(cpts, lengths) { piece, pos in
            var end = pos
            while end < piece.end && member(piece.cpts[end]) { end += 1 }
            return end - pos
        }
    }

    /// `[0-9][0-9][0-9]`
    static func asciiDigitTriples(_ cpts: [UInt32], _ lengths: [Int]) -> [Int] {
        isolate(cpts, lengths) { piece, pos in
            guard pos + 3 <= piece.end else { return 0 }
            for k in pos..<(pos + 3) where !(piece.cpts[k] >= 0x30 && piece.cpts[k] <= 0x39) { return 0 }
            return 3
        }
    }

    /// The GPT-2 regex, matched by hand the way `unicode_regex_split_custom_gpt2` does.
    static func gpt2(_ cpts: [UInt32], _ lengths: [Int]) -> [Int] {
        eachPiece(cpts, lengths) { p, emit in
            var pos = p.start
            while pos < p.end {
                let cpt = p.cpt(pos)
                let flags = p.flags(pos)
                // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
                if cpt == 0x27 && pos + 1 < p.end {
                    let next = p.cpt(pos + 1)
                    if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {
                        pos += 2; emit(pos); continue
                    }
                    if pos + 2 < p.end {
                        let next2 = p.cpt(pos + 2)
                        if (next == 0x72 && next2 == 0x65) || (next == 0x76 && next2 == 0x65) || (next == 0x6C && next2 == 0x6C) {
                            pos += 3; emit(pos); continue
                        }
                    }
                }
                var f2 = cpt == 0x20 ? p.flags(pos + 1) : flags
                // ` ?\p{L}+`
                if f2.isLetter {
                    if cpt == 0x20 { pos += 1 }
                    while f2.isLetter { pos += 1; f2 = p.flags(pos) }
                    emit(pos); continue
                }
                // ` ?\p{N}+`
                if f2.isNumber {
                    if cpt == 0x20 { pos += 1 }
                    while f2.isNumber { pos += 1; f2 = p.flags(pos) }
                    emit(pos); continue
                }
                // ` ?[^\s\p{L}\p{N}]+`
                if !(f2.isWhitespace || f2.isLetter || f2.isNumber) && f2.rawValue != 0 {
                    if cpt == 0x20 { pos += 1 }
                    while !(f2.isWhitespace || f2.isLetter || f2.isNumber) && f2.rawValue != 0 { pos += 1; f2 = p.flags(pos) }
                    emit(pos); continue
                }
                var spaces = 0
                while p.flags(pos + spaces).isWhitespace { spaces += 1 }
                // `\s+(?!\S)`: leave the last space to the word after it
                if spaces > 1 && p.cpt(pos + spaces) != Piece.outside {
                    pos += spaces - 1; emit(pos); continue
                }
                // `\s+`
                if spaces > 0 { pos += spaces; emit(pos); continue }
                pos += 1; emit(pos)
            }
        }
    }

    /// The Llama 3 regex (`digitRun` 3) or the Qwen2 one (`digitRun` 1), matched by hand as
    /// `unicode_regex_split_custom_llama3`/`_qwen2` do; `marksAreLetters` gives Qwen3.5's variant.
    static func llama3(_ cpts: [UInt32], _ lengths: [Int], digitRun: Int, marksAreLetters: Bool = false) -> [Int] {
        @inline(__always) func lower(_ c: UInt32) -> UInt32 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }
        let letterBits: UInt16 = marksAreLetters ? 0x0004 | 0x0010 : 0x0004
        @inline(__always) func isWord(_ f: CodepointFlags) -> Bool { f.rawValue & letterBits != 0 }
        return eachPiece(cpts, lengths) { p, emit in
            var pos = p.start
            while pos < p.end {
                let cpt = p.cpt(pos)
                let flags = p.flags(pos)
                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                if cpt == 0x27 && pos + 1 < p.end {
                    let next = lower(p.cpt(pos + 1))
                    if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {
                        pos += 2; emit(pos); continue
                    }
                    if pos + 2 < p.end {
                        let next2 = lower(p.cpt(pos + 2))
                        if (next == 0x72 && next2 == 0x65) || (next == 0x76 && next2 == 0x65) || (next == 0x6C && next2 == 0x6C) {
                            pos += 3; emit(pos); continue
                        }
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+ (Qwen3.5: [\p{L}\p{M}]+)
                if !(cpt == 0x0D || cpt == 0x0A || flags.isNumber) {
                    if isWord(flags) || isWord(p.flags(pos + 1)) {
                        pos += 1
                        while isWord(p.flags(pos)) { pos += 1 }
                        emit(pos); continue
                    }
                }
                // \p{N}{1,3} or \p{N}
                if flags.isNumber {
                    if digitRun == 1 {
                        pos += 1; emit(pos); continue
                    }
                    var runStart = pos
                    while p.flags(pos).isNumber {
                        pos += 1
                        if pos - runStart >= digitRun { emit(pos); runStart = pos }
                    }
                    emit(pos); continue
                }
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (the first test reads the flags of `pos`, as llama.cpp does)
                var f2 = cpt == 0x20 ? p.flags(pos + 1) : flags
                if !(f2.isWhitespace || isWord(f2) || f2.isNumber) && flags.rawValue != 0 {
                    if cpt == 0x20 { pos += 1 }
                    while !(f2.isWhitespace || isWord(f2) || f2.isNumber) && f2.rawValue != 0 { pos += 1; f2 = p.flags(pos) }
                    var c2 = p.cpt(pos)
                    while c2 == 0x0D || c2 == 0x0A { pos += 1; c2 = p.cpt(pos) }
                    emit(pos); continue
                }
                var spaces = 0
                var lastNewlineEnd = 0
                while p.flags(pos + spaces).isWhitespace {
                    let c2 = p.cpt(pos + spaces)
                    if c2 == 0x0D || c2 == 0x0A { lastNewlineEnd = pos + spaces + 1 }
                    spaces += 1
                }
                // \s*[\r\n]+
                if lastNewlineEnd > 0 { pos = lastNewlineEnd; emit(pos); continue }
                // \s+(?!\S)
                if spaces > 1 && p.cpt(pos + spaces) != Piece.outside { pos += spaces - 1; emit(pos); continue }
                // \s+
                if spaces > 0 { pos += spaces; emit(pos); continue }
                pos += 1; emit(pos)
            }
        }
    }
}
