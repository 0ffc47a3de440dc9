import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// A tiny byte-level BPE vocabulary: the 256 byte characters, a few merges and special tokens.
enum TinyBPE {
    /// GPT-2's printable stand-in for each byte.
    static let byteChars: [String] = {
        var map = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                map[b] = UInt32(b)
            } else {
                map[b] = next
                next += 1
            }
        }
        return map.map { String(Character(Unicode.Scalar($0) ?? "?")) }
    }()

    static let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o", "Ġwo r", "l d", "Ġwor ld"]
    static let extra = ["he", "ll", "hell", "hello", "Ġw", "Ġwo", "Ġwor", "ld", "Ġworld"]
    static let specials: [(String, Int)] = [("<|ctl|>", 3), ("<usr>", 4), ("<|eot_id|>", 1), ("<s>", 3), ("</s>", 3)]

    static var tokens: [String] { byteChars + extra + specials.map(\.0) }
    static var types: [Int] { [Int](repeating: 1, count: 256 + extra.count) + specials.map(\.1) }
    static func id(_ text: String) -> Int32 { Int32(tokens.firstIndex(of: text) ?? -1) }

    static func configuration(pre: String? = "gpt-2") -> TokenizerConfiguration {
        var c = TokenizerConfiguration(model: .bpe, tokens: tokens, tokenTypes: types, merges: merges, pre: pre)
        c.bosID = id("<s>")
        c.eosID = id("</s>")
        return c
    }
}

@Suite("Tokenizer: synthetic vocabularies")
struct TokenizerSyntheticTests {
    @Test func mergesInRankOrder() throws {
        let t = try Tokenizer(configuration: TinyBPE.configuration())
        #expect(t.encode("hello world", addSpecial: false, parseSpecial: false) == [TinyBPE.id("hello"), TinyBPE.id("Ġworld")])
        #expect(t.encode("hell", addSpecial: false, parseSpecial: false) == [TinyBPE.id("hell")])
        // "helo": he + l + o (no merge makes "lo")
        #expect(t.encode("helo", addSpecial: false, parseSpecial: false) == [TinyBPE.id("he"), TinyBPE.id("l"), TinyBPE.id("o")])
        #expect(t.decode(t.encode("hello world!", addSpecial: false, parseSpecial: false)) == "hello world!")
        // without the "l d" merge, "ld" never forms, so neither does "Ġworld"
        var noLD = TinyBPE.configuration()
        noLD.merges.removeAll { $0 == "l d" }
        let t2 = try Tokenizer(configuration: noLD)
        #expect(t2.encode(" world", addSpecial: false, parseSpecial: false) == [TinyBPE.id("Ġwor"), TinyBPE.id("l"), TinyBPE.id("d")])
    }

    @Test func mergeResultsOutsideTheVocabularyAndRepeatedMerges() throws {
        var c = TinyBPE.configuration()
        // "x y" makes "xy", which is not a token but is the left part of "xy z"; "q r" makes "qr", not a token;
        // "a b" is listed again after "b c": the first rank counts, so "abc" is "ab" + "c", not "a" + "bc"
        c.merges += ["x y", "xy z", "q r", "a b", "b c", "a b"]
        c.tokens += ["xyz", "ab", "bc"]
        c.tokenTypes? += [1, 1, 1]
        let t = try Tokenizer(configuration: c)
        func id(_ text: String) throws -> TokenID { try #require(t.tokenID(forText: text)) }
        func encode(_ text: String) -> [TokenID] { t.encode(text, addSpecial: false, parseSpecial: false) }
        #expect(try encode("xyz") == [id("xyz")])
        // a final symbol that is not a token: each byte of its byte-level text, as llama.cpp looks them up
        #expect(try encode("qr") == [id("q"), id("r")])
        #expect(try encode("abc") == [id("ab"), id("c")])
        #expect(try encode("xy") == [id("x"), id("y")])
    }

    @Test func controlTokensNeedSpecialParsingUserDefinedDoNot() throws {
        let t = try Tokenizer(configuration: TinyBPE.configuration())
        let ctl = TinyBPE.id("<|ctl|>"), usr = TinyBPE.id("<usr>")
        #expect(t.encode("<|ctl|>", addSpecial: false, parseSpecial: true) == [ctl])
        #expect(!t.encode("<|ctl|>", addSpecial: false, parseSpecial: false).contains(ctl))
        #expect(t.encode("<usr>", addSpecial: false, parseSpecial: false) == [usr])
        #expect(t.encode("a<usr>b", addSpecial: false, parseSpecial: true) == [TinyBPE.id("a"), usr, TinyBPE.id("b")])
        // control pieces render only with special on; user-defined ones always
        #expect(t.piece(ctl) == "<|ctl|>" && t.piece(ctl, special: false) == "")
        #expect(t.piece(usr, special: false) == "<usr>")
    }

    @Test func bosAndEosFollowTheMetadata() throws {
        var c = TinyBPE.configuration()
        #expect(try Tokenizer(configuration: c).encode("he", addSpecial: true, parseSpecial: false) == [TinyBPE.id("he")])
        c.addBOS = true
        c.addEOS = true
        let t = try Tokenizer(configuration: c)
        #expect(t.encode("he", addSpecial: true, parseSpecial: false) == [TinyBPE.id("<s>"), TinyBPE.id("he"), TinyBPE.id("</s>")])
        #expect(t.encode("he", addSpecial: false, parseSpecial: false) == [TinyBPE.id("he")])
        #expect(t.encode("", addSpecial: true, parseSpecial: false) == [TinyBPE.id("<s>"), TinyBPE.id("</s>")])
        // llama-bpe defaults add_bos to true when the file does not say
        var llama = TinyBPE.configuration(pre: "llama-bpe")
        llama.addBOS = nil
        #expect(try Tokenizer(configuration: llama).addBOS)
    }

    @Test func endOfGenerationComesFromTheVocabulary() throws {
        let t = try Tokenizer(configuration: TinyBPE.configuration())
        let eot = TinyBPE.id("<|eot_id|>")
        #expect(t.endOfGenerationTokens == [eot, TinyBPE.id("</s>")], "got \(t.endOfGenerationTokens.sorted())")
        #expect(t.eotToken == eot)
        // a normal-typed <|eot_id|> becomes a control token, as in llama.cpp
        #expect(t.attributes[Int(eot)].contains(.control))
        #expect(t.encode("<|eot_id|>", addSpecial: false, parseSpecial: true) == [eot])
    }

    @Test func phi3SpecialTokensSwallowFollowingSpaces() throws {
        var c = TinyBPE.configuration()
        c.modelName = "Phi-3 mini"
        let t = try Tokenizer(configuration: c)
        #expect(t.encode("<|ctl|>   he", addSpecial: false, parseSpecial: true) == [TinyBPE.id("<|ctl|>"), TinyBPE.id("he")])
        let plain = try Tokenizer(configuration: TinyBPE.configuration())
        #expect(plain.encode("<|ctl|>   he", addSpecial: false, parseSpecial: true).count > 2)
    }

    @Test func emptyAndDuplicateTokenTexts() throws {
        // llama.cpp names an empty token "[EMPTY_<id>]"; a text that occurs twice maps to its later id
        var c = TinyBPE.configuration()
        c.tokens.append("")
        c.tokens.append("he")
        c.tokenTypes?.append(contentsOf: [1, 1])
        let t = try Tokenizer(configuration: c)
        let empty = TokenID(c.tokens.count - 2), duplicate = TokenID(c.tokens.count - 1)
        #expect(t.tokenText(empty) == "[EMPTY_\(empty)]")
        #expect(t.tokenID(forText: "he") == duplicate)
        #expect(t.encode("he", addSpecial: false, parseSpecial: false) == [duplicate])
    }

    @Test func invalidMetadataThrows() throws {
        #expect(throws: ShimmyError.self) { try Tokenizer(configuration: TinyBPE.configuration(pre: "no-such-pre")) }
        #expect(throws: ShimmyError.self) { try Tokenizer(configuration: TokenizerConfiguration(model: .bpe, tokens: [])) }
        var short = TinyBPE.configuration()
        short.tokenTypes = [1, 1]
        #expect(throws: ShimmyError.self) { try Tokenizer(configuration: short) }
        var scores = TinyBPE.configuration()
        scores.scores = [0]
        #expect(throws: ShimmyError.self) { try Tokenizer(configuration: scores) }
    }

    @Test func ggufWithoutTokenizerThrows() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        let noModel = try parseGGUF(try writer.serialized())
        #expect(throws: ShimmyError.self) { try Tokenizer(gguf: noModel) }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.tokens", .array(.string, TinyBPE.tokens.map { .string($0) }))
        let noMerges = try parseGGUF(try writer.serialized())
        #expect(throws: ShimmyError.self) { try Tokenizer(gguf: noMerges) }
        writer.set("tokenizer.ggml.merges", .array(.string, TinyBPE.merges.map { .string($0) }))
        writer.set("tokenizer.ggml.model", .string("bert"))
        let bert = try parseGGUF(try writer.serialized())
        #expect(throws: ShimmyError.self) { try Tokenizer(gguf: bert) }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string("gpt-2"))
        let ok = try Tokenizer(gguf: try parseGGUF(try writer.serialized()))
        #expect(ok.encode("hello", addSpecial: false, parseSpecial: false) == [TinyBPE.id("hello")])
    }

    @Test(arguments: [
        (PreTokenizerKind.smollm, "abc123", ["abc", "1", "2", "3"]),
        (.smollm, "don't", ["don", "'t"]),
        (.smollm, "DON'T", ["DON", "'", "T"]),
        (.smollm, "a  b", ["a", " ", " b"]),
        (.smollm, "x\u{00A0}y", ["x", "\u{00A0}", "y"]),
        (.smollm, "\r\n", ["\r\n"]),
        (.smollm, "e\u{0301}!", ["e", "\u{0301}!"]),
        (.smollm, "½²", ["½", "²"]),
        (.gpt2, "hello  world 42", ["hello", " ", " world", " 42"]),
        (.llama3, "DON'T", ["DON", "'T"]),
        (.llama3, "1234567", ["123", "456", "7"]),
        (.llama3, "a\n\nb", ["a", "\n\n", "b"]),
        (.llama3, "  hi", [" ", " hi"]),
        (.llama3, "!!!\n\nx", ["!!!\n\n", "x"]),
        (.llama3, "日本語 text", ["日本語", " text"]),
        (.qwen2, "1234", ["1", "2", "3", "4"]),
        (.qwen2, "e\u{0301}x", ["e", "\u{0301}x"]),
        (.qwen35, "e\u{0301}x 12", ["e\u{0301}x", " ", "1", "2"]),
        (.default, "a+b=1000", ["a", "+", "b", "=", "100", "0"]),
    ])
    func preTokenizerWords(_ kind: PreTokenizerKind, _ text: String, _ words: [String]) {
        let got = kind.words(text)
        #expect(got == words, "\(kind): got \(got.map(\.debugDescription))")
    }
}
