/// GPT-2's byte-level alphabet: every byte is written as one printable code point before BPE runs
/// (`!`..`~`, `¡`..`¬`, `®`..`ÿ` stand for themselves; the other 68 bytes map to U+0100 upwards, so a space is `Ġ`).
enum ByteLevel {
    /// The code point that stands for each byte.
    static let codepointForByte: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256)
        var assigned = [Bool](repeating: false, count: 256)
        for range in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] {
            for b in range { map[b] = UInt32(b); assigned[b] = true }
        }
        var next: UInt32 = 256
        for b in 0..<256 where !assigned[b] {
            map[b] = next
            next += 1
        }
        return map
    }()

    /// The UTF-8 bytes of the code point that stands for each byte.
    static let utf8ForByte: [[UInt8]] = codepointForByte.map { cpt in
        var out: [UInt8] = []
        LlamaUTF8.append(cpt, to: &out)
        return out
    }

    /// The byte a code point stands for, or nil when it is not in the alphabet.
    @inline(__always)
    static func byte(for cpt: UInt32) -> UInt8? {
        guard cpt < UInt32(inverse.count) else { return nil }
        let b = inverse[Int(cpt)]
        return b >= 0 ? UInt8(b) : nil
    }

    /// Code point → byte (-1: not in the alphabet); the alphabet ends below U+0144.
    private static let inverse: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for b in 0..<256 { table[Int(codepointForByte[b])] = Int16(b) }
        return table
    }()

    /// A word's byte-level text (one code point per byte of the word) and where the code point of byte i starts
    /// in it (`starts[i]`, then the text's length last).
    static func encode(_ word: [UInt8]) -> (text: [UInt8], starts: [Int]) {
        var text: [UInt8] = []
        text.reserveCapacity(2 * word.count)
        var starts: [Int] = []
        starts.reserveCapacity(word.count + 1)
        for b in word {
            starts.append(text.count)
            text.append(contentsOf: utf8ForByte[Int(b)])
        }
        starts.append(text.count)
        return (text, starts)
    }

    /// `llama_decode_text`: the bytes a byte-level token text stands for. A code point outside the alphabet
    /// becomes `[UNK_BYTE_0x<hex of its UTF-8>` + the whole text + `]`, as llama.cpp writes it, except in a text
    /// longer than `maxEchoedText` bytes, where it is `[UNK_BYTE_0x<hex>]`: repeating the text for each of its
    /// code points grows with the square of its length (a crafted 40 KB token decoded to 800 MB).
    static func decode(_ text: [UInt8]) -> [UInt8] {
        let echo = text.count <= maxEchoedText
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        for cpt in LlamaUTF8.codepoints(text) {
            if let b = byte(for: cpt) {
                out.append(b)
            } else {
                var utf8: [UInt8] = []
                LlamaUTF8.append(cpt, to: &utf8)
                out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                for c in utf8 { out.append(contentsOf: Array(hex2(c).utf8)) }
                if echo { out.append(contentsOf: text) }
                out.append(UInt8(ascii: "]"))
            }
        }
        return out
    }

    /// Longest token text repeated in an unknown-byte marker.
    static let maxEchoedText = 256

    private static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
    }
}
