import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// One case of a `Fixtures/tokenizer/*.json` file: raw input bytes and llama.cpp's ids and detokenized bytes.
struct TokenizerFixtureCase: Sendable, Decodable, CustomTestStringConvertible {
    var hex: String
    var parse_special: Bool
    var add_special: Bool
    var ids: [Int32]
    var detok_hex: String
    /// The pre-tokenizer of this case (files that mix several name it per case).
    var pre: String?
    var file: String?
    var bytes: [UInt8] { TokenizerFixtureCase.decodeHex(hex) }
    var detokenized: [UInt8] { TokenizerFixtureCase.decodeHex(detok_hex) }
    var testDescription: String {
        let shown = String(decoding: bytes.prefix(30), as: UTF8.self)
        return "\(file ?? "") \(shown.debugDescription) special=\(parse_special) add=\(add_special)"
    }

    static func decodeHex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(s.utf8)[...]
        while chars.count >= 2 {
            let pair = String(decoding: chars.prefix(2), as: UTF8.self)
            out.append(UInt8(pair, radix: 16) ?? 0)
            chars = chars.dropFirst(2)
        }
        return out
    }
}

enum TokenizerFixtureFiles {
    struct BPEFile: Decodable { var pre: String; var cases: [TokenizerFixtureCase] }
    struct SPMFile: Decodable {
        var tokens: [String]
        var token_types: [Int]
        var scores: [Float]
        var cases: [TokenizerFixtureCase]
    }

    static let preTokenizers = ["smollm", "llama-bpe", "qwen2", "gpt-2", "default"]

    static func url(_ name: String) -> URL {
        TestPaths.repositoryRoot.appendingPathComponent("Fixtures/tokenizer").appendingPathComponent(name)
    }

    /// Mixed hard cases for each pre-tokenizer, then random code points from all over Unicode.
    static let bpeFiles = preTokenizers + ["unicode-smollm", "unicode-llama-bpe", "unicode-default", "aliases"]

    static let bpeCases: [TokenizerFixtureCase] = bpeFiles.flatMap { name -> [TokenizerFixtureCase] in
        guard let data = try? Data(contentsOf: url("bpe-\(name).json")),
              let file = try? JSONDecoder().decode(BPEFile.self, from: data) else { return [] }
        return file.cases.map { var c = $0; c.file = c.pre ?? file.pre; return c }
    }

    static let spmFile: SPMFile? = {
        guard let data = try? Data(contentsOf: url("spm-synthetic.json")) else { return nil }
        return try? JSONDecoder().decode(SPMFile.self, from: data)
    }()

    /// The default model's vocabulary with `tokenizer.ggml.pre` swapped, one tokenizer per name.
    static let bpeTokenizers: [String: Result<Tokenizer, Error>] = {
        let base = Result { try TokenizerConfiguration(gguf: GGUFFile(contentsOf: TestPaths.defaultModel)) }
        var out: [String: Result<Tokenizer, Error>] = [:]
        for pre in Set(bpeCases.compactMap(\.file)) {
            out[pre] = base.flatMap { config in
                var c = config
                c.pre = pre
                return Result { try Tokenizer(configuration: c) }
            }
        }
        return out
    }()

    /// The synthetic SentencePiece vocabulary, written with `GGUFWriter` and read back.
    static let spmTokenizer: Result<Tokenizer, Error> = Result {
        guard let file = spmFile else { throw ShimmyError(.serverError, "spm-synthetic.json missing") }
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("general.name", .string("tiny spm"))
        writer.set("tokenizer.ggml.model", .string("llama"))
        writer.set("tokenizer.ggml.tokens", .array(.string, file.tokens.map { .string($0) }))
        writer.set("tokenizer.ggml.scores", .array(.float32, file.scores.map { .float32($0) }))
        writer.set("tokenizer.ggml.token_type", .array(.int32, file.token_types.map { .int32(Int32($0)) }))
        return try Tokenizer(gguf: parseGGUF(try writer.serialized()))
    }
}

@Suite("Tokenizer: llama.cpp ids on fuzzed text (Fixtures/tokenizer)")
struct TokenizerFixtureTests {
    @Test func fixturesPresent() {
        #expect(TokenizerFixtureFiles.bpeCases.count == 5 * 300 + 3 * 250 + 16 * 80, "got \(TokenizerFixtureFiles.bpeCases.count) BPE cases")
        #expect((TokenizerFixtureFiles.spmFile?.cases.count ?? 0) >= 400)
    }

    @Test(arguments: TokenizerFixtureFiles.bpeCases)
    func bytePairEncoding(_ c: TokenizerFixtureCase) throws {
        let tokenizer = try #require(TokenizerFixtureFiles.bpeTokenizers[c.file ?? ""]).get()
        let ids = tokenizer.encode(bytes: c.bytes, addSpecial: c.add_special, parseSpecial: c.parse_special)
        #expect(ids == c.ids, "\(idDifference(ids, c.ids))")
        let text = tokenizer.decodeBytes(c.ids)
        #expect(text == c.detokenized, "decode got \(String(decoding: text, as: UTF8.self).debugDescription) want \(String(decoding: c.detokenized, as: UTF8.self).debugDescription)")
    }

    @Test(arguments: TokenizerFixtureFiles.spmFile?.cases ?? [])
    func sentencePiece(_ c: TokenizerFixtureCase) throws {
        let tokenizer = try TokenizerFixtureFiles.spmTokenizer.get()
        let ids = tokenizer.encode(bytes: c.bytes, addSpecial: c.add_special, parseSpecial: c.parse_special)
        #expect(ids == c.ids, "\(idDifference(ids, c.ids))")
        let text = tokenizer.decodeBytes(c.ids)
        #expect(text == c.detokenized, "decode got \(String(decoding: text, as: UTF8.self).debugDescription) want \(String(decoding: c.detokenized, as: UTF8.self).debugDescription)")
    }

    @Test func sentencePieceSettings() throws {
        let tokenizer = try TokenizerFixtureFiles.spmTokenizer.get()
        #expect(tokenizer.model == .spm)
        #expect(tokenizer.bosToken == 1 && tokenizer.eosToken == 2 && tokenizer.unknownToken == 0)
        #expect(tokenizer.addBOS && !tokenizer.addEOS && tokenizer.addSpacePrefix)
        #expect(tokenizer.endOfGenerationTokens == [2], "got \(tokenizer.endOfGenerationTokens.sorted())")
        // byte fallback: a character with no piece becomes its UTF-8 bytes as <0xXX> tokens
        let ids = tokenizer.encode("Q", addSpecial: false, parseSpecial: false)
        let want = [tokenizer.tokenID(forText: "▁"), tokenizer.tokenID(forText: "<0x51>")].compactMap { $0 }
        #expect(ids == want, "got \(ids)")
        #expect(tokenizer.decode(ids) == "Q")
    }
}
