import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

/// JSON mode: `JSONRecognizer` against Foundation's JSON parser, and generations with `format: .json`.
@Suite(.serialized)
struct JSONModeTests {
    static let valid = [
        #"{}"#, #"{"a":1}"#, #"{"a": [1, -2.5e+3, 0, -0, 0.25, 1E9, true, false, null, "x\"\\\/\b\f\n\r\tA\u00e9"]}"#,
        "{\n  \"nested\": {\"deeper\": [[], {}, [{}]]},\n\t\"s\": \"ünïcødé ✓\"\r\n}", #"{"e":[1e-7,2.0E-0]}"#,
        #"{ "k" : "v" , "l" : [ 1 , 2 ] }"#,
    ]
    static let invalid = [
        " {}", "[]", "1", #""s""#, #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, #"{'a':1}"#, #"{"a":01}"#, #"{"a":1.}"#,
        #"{"a":-}"#, #"{"a":.5}"#, #"{"a":1e}"#, "{\"a\":\"\u{01}\"}", #"{"a":"\x"}"#, #"{"a":"\u12G4"}"#,
        #"{"a":tru}"#, #"{"a":1} "#, #"{"a":1}{}"#, #"{"a":[1}"#, #"{"a":{]}"#, #"{"a":[1,]}"#, #"{,}"#, #"{"a"::1}"#,
        #"{"a":+1}"#, #"{"a":nul }"#, #"{"a":1"#  + String(repeating: " ", count: 22) + "}",
    ]

    static func accepts(_ text: String) -> (accepted: Bool, complete: Bool) {
        var recognizer = JSONRecognizer()
        let ok = recognizer.feed(Array(text.utf8))
        return (ok, ok && recognizer.isComplete)
    }

    @Test func validObjectsAndTheirPrefixes() {
        for text in Self.valid {
            #expect(Self.accepts(text) == (true, true), "\(text)")
            let bytes = Array(text.utf8)
            for n in 0..<bytes.count {
                var recognizer = JSONRecognizer()
                let fed = recognizer.feed(bytes[..<n])
                #expect(fed && !recognizer.isComplete, "prefix \(n) of \(text)")
            }
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "\(text)")
        }
    }

    @Test func invalidTextIsRefused() {
        // each is refused at the byte that breaks it, not merely left unfinished
        for text in Self.invalid {
            #expect(!Self.accepts(text).accepted, "\(text.debugDescription) accepted")
        }
        // nesting is bounded
        let deep = "{\"a\":" + String(repeating: "[", count: JSONRecognizer.maxDepth) + "1"
        #expect(!Self.accepts(deep).accepted)
        let ok = "{\"a\":" + String(repeating: "[", count: JSONRecognizer.maxDepth - 1) + "1"
            + String(repeating: "]", count: JSONRecognizer.maxDepth - 1) + "}"
        #expect(Self.accepts(ok) == (true, true))
    }

    /// Random text over JSON's own characters: whatever the recognizer calls a whole object, Foundation parses as
    /// one; random objects Foundation writes (pretty or not), the recognizer accepts whole.
    @Test func agreesWithFoundation() throws {
        var random = SplitMix64(state: 11)
        let alphabet = Array(#"{}[]:,"ab\ 0123-.eE+tfnrul"#.utf8)
        var completeCount = 0
        for _ in 0..<200_000 {
            let length = Int(random.next() % 12) + 2
            var bytes = [UInt8(ascii: "{")]
            for _ in 1..<length { bytes.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
            var recognizer = JSONRecognizer()
            guard recognizer.feed(bytes), recognizer.isComplete else { continue }
            completeCount += 1
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes))
            #expect(parsed is [String: Any], "\(String(decoding: bytes, as: UTF8.self)) accepted, Foundation refuses it")
        }
        #expect(completeCount > 100, "too few random objects to compare: \(completeCount)")

        func value(_ depth: Int) -> Any {
            switch random.next() % (depth > 3 ? 4 : 6) {
            case 0: return Int(random.next() % 2000) - 1000
            case 1: return Double(Int(random.next() % 100_000)) / 64 - 500
            case 2: return ["x", "é ✓", "quote\"back\\slash\n", ""][Int(random.next() % 4)]
            case 3: return [true, false, NSNull()][Int(random.next() % 3)] as Any
            case 4: return (0..<Int(random.next() % 4)).map { _ in value(depth + 1) }
            default: return object(depth + 1)
            }
        }
        func object(_ depth: Int) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: (0..<Int(random.next() % 4)).map { ("k\($0)", value(depth)) })
        }
        for i in 0..<500 {
            let data = try JSONSerialization.data(withJSONObject: object(0), options: i % 2 == 0 ? [.prettyPrinted] : [])
            var recognizer = JSONRecognizer()
            let fed = recognizer.feed(Array(data))
            #expect(fed && recognizer.isComplete, "\(String(decoding: data, as: UTF8.self))")
        }
    }

    /// Generations in JSON mode on the default model, greedy and sampled: every answer is a prefix of a JSON
    /// object, and one that ended (`stop`) is a whole object, which Foundation parses, with nothing after it.
    @Test func generationsAreJSONObjects() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        let prompts: [Prompt] = [
            .messages([.user("Give me a JSON object describing a cat with a name and an age.")]),
            .messages([.user("List three colors.")]),
            .text("Once upon a time"),
        ]
        var whole = 0
        for prompt in prompts {
            for sampling in [SamplingParameters.greedy, SamplingParameters(temperature: 0.8, seed: 3)] {
                let request = GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: 160, format: .json)
                let (text, stats) = try await model.generateText(request)
                var recognizer = JSONRecognizer()
                let fed = recognizer.feed(Array(text.utf8))
                #expect(fed, "not a JSON prefix: \(text.debugDescription)")
                if stats.finishReason == .stop {
                    whole += 1
                    #expect(recognizer.isComplete, "\(text.debugDescription)")
                    let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
                    #expect(parsed is [String: Any], "\(text.debugDescription)")
                } else {
                    #expect(stats.finishReason == .length && stats.completionTokens == 160)
                }
            }
        }
        #expect(whole >= 3, "too few answers ended within 160 tokens: \(whole) of 6")
    }
}
