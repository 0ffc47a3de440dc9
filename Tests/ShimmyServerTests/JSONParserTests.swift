import Testing
@testable import ShimmyServer

@Suite("JSONParser")
struct JSONParserTests {
    @Test("valid documents", arguments: [
        (#"{"a": 1, "b": [true, false, null], "c": "x\ny", "d": -1.5e2}"#,
         JSONValue.object([("a", 1), ("b", [true, false, nil]), ("c", "x\ny"), ("d", -150.0)])),
        (#"  "\u00e9\ud83d\ude00\/"  "#, JSONValue.string("é😀/")),
        ("[]", JSONValue.array([])),
        ("9223372036854775807", JSONValue.integer(Int64.max)),
        ("1e400", nil),
    ] as [(String, JSONValue?)])
    func valid(text: String, expected: JSONValue?) {
        let parsed = try? JSONParser.parse(Array(text.utf8))
        #expect(parsed == expected, "\(text): got \(String(describing: parsed))")
    }

    @Test("invalid documents", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\u{01}\"", "tru", "[1] 2", "\"\\ud800\"", "{1: 2}",
    ])
    func invalid(text: String) {
        #expect(throws: JSONParseError.self, "\(text.debugDescription) should fail") { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("strings must be UTF-8: stray, truncated, overlong and surrogate sequences are rejected",
          arguments: [[0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x61, 0x5C, 0x6E, 0xFE]] as [[UInt8]])
    func invalidUTF8(inner: [UInt8]) {
        let body = Array(#"{"prompt": ""#.utf8) + inner + Array(#""}"#.utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(body) }
        // valid multi-byte text around an escape still parses
        let good = Array(#"{"p": "é\n日本"}"#.utf8)
        #expect((try? JSONParser.parse(good))?["p"] == "é\n日本")
    }

    @Test("nesting limit")
    func depth() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONParser.parse(Array(ok.utf8))) != nil)
    }

    @Test("serialization round-trips and escapes")
    func roundTrip() throws {
        let value: JSONValue = ["text": "a\"b\\c\n\u{01}é", "n": 3, "f": 0.5, "list": [nil, true], "empty": [:]]
        let text = value.serialized
        #expect(text == #"{"text":"a\"b\\c\n\u0001é","n":3,"f":0.5,"list":[null,true],"empty":{}}"#, "got \(text)")
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
    }
}
