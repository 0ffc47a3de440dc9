extension Tokenizer {
    /// `llama_token_to_piece`: the bytes a token stands for. Control and unknown tokens give their text when
    /// `special` is true and nothing otherwise; user-defined tokens always give their text. An id out of range
    /// gives nothing. Rendered on each call (a fraction of a microsecond) rather than for the whole vocabulary
    /// when the model loads, as llama.cpp's `cache_token_to_piece` does: that table cost ~9 ms of a cold start.
    public func pieceBytes(_ id: TokenID, special: Bool = true) -> [UInt8] {
        guard id >= 0, Int(id) < tokenBytes.count else { return [] }
        let attributes = attributes[Int(id)]
        if !special && !attributes.isDisjoint(with: [.unknown, .control]) { return [] }
        return Tokenizer.renderPiece(text: Array(tokenBytes[Int(id)]), attributes: attributes, model: model)
    }

    /// `pieceBytes` as text (invalid UTF-8 shown as U+FFFD).
    public func piece(_ id: TokenID, special: Bool = true) -> String {
        String(decoding: pieceBytes(id, special: special), as: UTF8.self)
    }

    /// Full decode with llama_detokenize semantics (`remove_special` off, `unparse_special` = `special`): SPM's
    /// leading space is dropped and, for vocabularies that ask for it, `clean_spaces` tidies spaces.
    public func decode(_ ids: [TokenID], special: Bool = true) -> String {
        String(decoding: decodeBytes(ids, special: special), as: UTF8.self)
    }

    /// `decode` as bytes (may end inside a UTF-8 sequence).
    public func decodeBytes(_ ids: [TokenID], special: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        var removeSpace = addSpacePrefix
        for id in ids {
            let piece = pieceBytes(id, special: special)
            if removeSpace, piece.first == 0x20 {
                out.append(contentsOf: piece.dropFirst())
            } else {
                out.append(contentsOf: piece)
            }
            removeSpace = false
        }
        return cleanSpaces ? Tokenizer.cleanUpSpaces(out) : out
    }

    /// llama.cpp's three `clean_spaces` passes: no space before `?!.,`; `a ' b` → `a'b`; no space before
    /// `'s`, `'m`, `'re`, `'ve`.
    static func cleanUpSpaces(_ text: [UInt8]) -> [UInt8] {
        let space: UInt8 = 0x20, quote: UInt8 = 0x27
        // pass 1
        var pass1: [UInt8] = []
        pass1.reserveCapacity(text.count)
        for (i, x) in text.enumerated() {
            if i > 0 && text[i - 1] == space && (x == 0x3F || x == 0x21 || x == 0x2E || x == 0x2C) { pass1.removeLast() }
            pass1.append(x)
        }
        // pass 2 (the space after the quote is overwritten with NUL in place, which later tests see)
        var src = pass1
        var pass2: [UInt8] = []
        pass2.reserveCapacity(src.count)
        var i = 0
        while i < src.count {
            let x = src[i]
            if i > 0 && x == quote && i + 1 < src.count && src[i - 1] == space && src[i + 1] == space {
                pass2.removeLast()
                i += 1
                src[i] = 0
            }
            pass2.append(x)
            i += 1
        }
        // pass 3
        var pass3: [UInt8] = []
        pass3.reserveCapacity(pass2.count)
        for (i, x) in pass2.enumerated() {
            if i > 0 && pass2[i - 1] == space && x == quote && i + 1 < pass2.count {
                let x1 = pass2[i + 1]
                if x1 == 0x73 || x1 == 0x6D {  // 's 'm
                    pass3.removeLast()
                } else if x1 != 0x74 && x1 != 0x64 && i + 2 < pass2.count {
                    let x2 = pass2[i + 2]
                    if (x1 == 0x72 && x2 == 0x65) || (x1 == 0x76 && x2 == 0x65) { pass3.removeLast() }  // 're 've
                }
            }
            pass3.append(x)
        }
        return pass3
    }

    /// The piece a token renders to with special tokens shown (llama.cpp's `token_to_piece` with `special`).
    static func renderPiece(text: [UInt8], attributes: TokenAttributes, model: TokenizerModel) -> [UInt8] {
        if !attributes.isDisjoint(with: [.unknown, .control, .userDefined]) { return text }
        if attributes.contains(.normal) {
            switch model {
            case .bpe: return ByteLevel.decode(text)
            case .spm: return unescapeSpaces(text)
            }
        }
        if attributes.contains(.byte) { return [byteValue(text)] }
        return []
    }

    /// `▁` back to spaces.
    static func unescapeSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i + 2 < text.count && text[i] == 0xE2 && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// The value of a `<0xXX>` token (`strtol` of the two characters after `<0x`; 0 when they are not hex).
    static func byteValue(_ text: [UInt8]) -> UInt8 {
        guard text.count >= 5 else { return 0 }
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let hi = digit(text[3]) else { return 0 }
        guard let lo = digit(text[4]) else { return hi }
        return hi << 4 | lo
    }
}
