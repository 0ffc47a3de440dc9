import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// One case of `../shared/reference/tokenizer.json` (llama.cpp's ids for the default model).
struct TokenizerReferenceCase: Sendable, Decodable, CustomTestStringConvertible {
    var text: String
    var parse_special: Bool
    var ids: [Int32]
    var detokenized: String
    var roundtrip_exact: Bool?
    var same_ids_both_modes: Bool?
    var testDescription: String {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\(shown.debugDescription) special=\(parse_special)"
    }
}

enum TokenizerFixtures {
    struct File: Decodable { var cases: [TokenizerReferenceCase] }

    /// The reference cases (empty when the file is missing, which the count test reports).
    static let referenceCases: [TokenizerReferenceCase] = {
        guard let data = try? Data(contentsOf: TestPaths.reference("tokenizer.json")),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.cases
    }()

    /// The default model's tokenizer, loaded once.
    static let defaultTokenizer: Result<Tokenizer, Error> = Result {
        try Tokenizer(gguf: GGUFFile(contentsOf: TestPaths.defaultModel))
    }

    static func tokenizer() throws -> Tokenizer { try defaultTokenizer.get() }
}

/// Shows where two id lists part.
func idDifference(_ got: [Int32], _ want: [Int32]) -> String {
    let i = Array(zip(got, want)).firstIndex { $0.0 != $0.1 } ?? min(got.count, want.count)
    return "first difference at \(i): got \(Array(got.dropFirst(max(0, i - 2)).prefix(6))) want \(Array(want.dropFirst(max(0, i - 2)).prefix(6))) (counts \(got.count)/\(want.count))"
}

@Suite("Tokenizer: llama.cpp reference ids for the default model")
struct TokenizerReferenceTests {
    @Test func referenceFileHasCases() {
        #expect(TokenizerFixtures.referenceCases.count >= 200, "tokenizer.json missing or short at \(TestPaths.reference("tokenizer.json").path)")
    }

    @Test(arguments: TokenizerFixtures.referenceCases)
    func encodesLikeLlamaCpp(_ c: TokenizerReferenceCase) throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        let got = tokenizer.encode(c.text, addSpecial: false, parseSpecial: c.parse_special)
        #expect(got == c.ids, "\(idDifference(got, c.ids))")
        if c.same_ids_both_modes == true {
            let other = tokenizer.encode(c.text, addSpecial: false, parseSpecial: !c.parse_special)
            #expect(other == c.ids, "other special mode: \(idDifference(other, c.ids))")
        }
    }

    @Test(arguments: TokenizerFixtures.referenceCases)
    func decodesLikeLlamaCpp(_ c: TokenizerReferenceCase) throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        let text = tokenizer.decode(c.ids)
        #expect(text == c.detokenized, "got \(text.debugDescription) want \(c.detokenized.debugDescription)")
        if c.roundtrip_exact == true {
            #expect(text == c.text)
        }
    }

    @Test func defaultModelSettings() throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.model == .bpe)
        #expect(tokenizer.preTokenizer == .smollm)
        #expect(tokenizer.bosToken == 1)
        #expect(tokenizer.eosToken == 2)
        #expect(tokenizer.addBOS == false)
        #expect(tokenizer.addEOS == false)
        #expect(tokenizer.cleanSpaces == false)
        // EOS, the text-matched <|endoftext|>/<|im_end|>, and <reponame> found as llama.cpp's FIM repo token
        #expect(tokenizer.endOfGenerationTokens == [0, 2, 4], "got \(tokenizer.endOfGenerationTokens.sorted())")
        #expect(tokenizer.isEndOfGeneration(2))
        #expect(tokenizer.eotToken == 0, "llama.cpp's EOT for this vocabulary is <|endoftext|>")
        #expect(!tokenizer.isEndOfGeneration(1))
        // addSpecial adds nothing for this model
        #expect(tokenizer.encode("Hello world", addSpecial: true, parseSpecial: true) == [19556, 905])
    }

    @Test func pieces() throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        #expect(tokenizer.pieceBytes(905) == Array(" world".utf8))
        #expect(tokenizer.piece(2) == "<|im_end|>")
        #expect(tokenizer.pieceBytes(2, special: false).isEmpty)
        #expect(tokenizer.pieceBytes(-1).isEmpty)
        #expect(tokenizer.pieceBytes(Int32(tokenizer.vocabularySize)).isEmpty)
        #expect(tokenizer.decode([1, 19556, 2], special: false) == "Hello")
    }
}
