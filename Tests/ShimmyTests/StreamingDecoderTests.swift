import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

@Suite("StreamingDecoder")
struct StreamingDecoderTests {
    /// Feeds ids one at a time; returns the chunks (the last one is `finish()`).
    static func stream(_ ids: [TokenID], _ tokenizer: Tokenizer) -> [String] {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var chunks = ids.map { decoder.append($0) }
        chunks.append(decoder.finish())
        return chunks
    }

    @Test(arguments: ["😀😃😄😁", "日本語のテキスト", "👨‍👩‍👧‍👦 family", "café naïve", "Ω≈ç√∫ 🇺🇸🇬🇧", "a😀b😀c"])
    func multiByteCharactersComeOutWhole(_ text: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        let chunks = Self.stream(ids, tokenizer)
        #expect(chunks.joined() == text, "chunks \(chunks)")
        for chunk in chunks { #expect(!chunk.unicodeScalars.contains("\u{FFFD}"), "half a character leaked: \(chunks)") }
        // some token of these texts is part of a character, so a chunk was held back
        let partial = ids.contains { String(validatingUTF8: tokenizer.pieceBytes($0).map { CChar(bitPattern: $0) } + [0]) == nil }
        if partial { #expect(chunks.contains(""), "no chunk was held back: \(chunks)") }
    }

    @Test func everyReferenceCaseStreamsToItsDecode() throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        var checked = 0
        for c in TokenizerFixtures.referenceCases {
            let joined = Self.stream(c.ids, tokenizer).joined()
            #expect(joined == tokenizer.decode(c.ids), "\(c.testDescription)")
            checked += 1
        }
        #expect(checked >= 200)
    }

    @Test(arguments: [1, 2, 3, 5, 7])
    func byteChunksOfAnySize(_ size: Int) throws {
        let text = "Straße 😀 中文测试 ﬁ é ‰ 𝄞 end"
        let bytes = Array(text.utf8)
        var decoder = StreamingDecoder(tokenizer: try TokenizerFixtures.tokenizer())
        var out = ""
        var i = 0
        while i < bytes.count {
            let chunk = decoder.append(bytes: Array(bytes[i..<min(i + size, bytes.count)]))
            #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
            out += chunk
            i += size
        }
        out += decoder.finish()
        #expect(out == text)
    }

    @Test func invalidBytesBecomeReplacementCharacters() throws {
        var decoder = StreamingDecoder(tokenizer: try TokenizerFixtures.tokenizer())
        #expect(decoder.append(bytes: [0x41, 0xFF, 0x42]) == "A\u{FFFD}B")
        // an unfinished character is held, then flushed as U+FFFD
        #expect(decoder.append(bytes: [0xE2, 0x82]) == "")
        #expect(decoder.pendingByteCount == 2)
        #expect(decoder.finish() == "\u{FFFD}")
        // a lead byte that cannot start a valid sequence (E0 80) is not held
        #expect(decoder.append(bytes: [0xE0, 0x80]) == String(decoding: [0xE0, 0x80] as [UInt8], as: UTF8.self))
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func controlTokensRenderUnlessSpecialIsOff() throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        var shown = StreamingDecoder(tokenizer: tokenizer)
        var hidden = StreamingDecoder(tokenizer: tokenizer, special: false)
        #expect(shown.append(2) == "<|im_end|>")
        #expect(hidden.append(2) == "")
    }
}
