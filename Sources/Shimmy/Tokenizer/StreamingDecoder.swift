/// Incremental, UTF-8-safe detokenizer: each `append` returns only whole characters; bytes of a character
/// that a later token completes are held back. Concatenating every `append` and `finish()` gives the same
/// text as decoding all the pieces at once (invalid bytes become U+FFFD either way).
///
/// ```swift
/// var decoder = StreamingDecoder(tokenizer: tokenizer)
/// for id in generated { print(decoder.append(id), terminator: "") }
/// print(decoder.finish())
/// ```
///
/// Pieces are llama.cpp's `token_to_piece` (what its server streams): unlike `Tokenizer.decode`, no SPM
/// leading space is dropped and no `clean_spaces` pass runs.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let special: Bool
    private var pending: [UInt8] = []

    /// `special`: render control tokens as their text (llama.cpp's default for generation output).
    public init(tokenizer: Tokenizer, special: Bool = true) {
        self.tokenizer = tokenizer
        self.special = special
    }

    /// Adds a token; returns the text that is now complete (possibly empty).
    public mutating func append(_ id: TokenID) -> String {
        append(bytes: tokenizer.pieceBytes(id, special: special))
    }

    /// Adds raw bytes; returns the text that is now complete (possibly empty).
    public mutating func append(bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let cut = StreamingDecoder.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is held back (an unfinished character becomes U+FFFD) and starts over.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Ends the text without the bytes of an unfinished character (a generation cut by a limit mid-character:
    /// Ollama and llama.cpp's stream drop them too) and starts over.
    public mutating func dropUnfinished() { pending.removeAll() }

    /// Bytes held back because they may be the start of a character.
    public var pendingByteCount: Int { pending.count }

    /// How many leading bytes can be decoded now: all, except a trailing sequence that is a valid but
    /// unfinished UTF-8 character.
    public static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        // find the last byte that is not a continuation byte, at most 3 back
        while i >= 0 && i >= n - 4 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0, i >= n - 4 else { return n }
        let lead = bytes[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n
        }
        let have = n - i
        guard have < need else { return n }
        // the second byte's allowed range depends on the lead (no overlongs, surrogates or values past U+10FFFF)
        if have >= 2 {
            let second = bytes[i + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = second >= 0xA0
            case 0xED: ok = second <= 0x9F
            case 0xF0: ok = second >= 0x90
            case 0xF4: ok = second <= 0x8F
            default: ok = true
            }
            if !ok { return n }
        }
        return i
    }
}
