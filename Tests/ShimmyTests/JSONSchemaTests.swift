import Foundation
@testable import Shimmy
import Testing

/// Structured output: `SchemaRecognizer` on documents a schema accepts and refuses, and generations under a schema.
@Suite(.serialized)
struct JSONSchemaTests {
    static let country = JSONSchema.object([
        .init("name", .string), .init("capital", .string),
        .init("languages", .array(items: .string, minItems: 1, maxItems: 3)),
        .init("population", .integer), .init("area", .number, required: false),
        .init("continent", .literals([.string("Africa"), .string("America"), .string("Europe")])),
        .init("big", .boolean), .init("motto", .anyOf([.string, .null]), required: false),
    ])

    static func accepts(_ schema: JSONSchema, _ text: String) throws -> (accepted: Bool, complete: Bool) {
        let compiled = try CompiledSchema(schema)
        var recognizer = SchemaRecognizer(schema: compiled)
        let ok = recognizer.feed(Array(text.utf8), schema: compiled)
        return (ok, ok && recognizer.isComplete)
    }

    @Test func acceptsWhatTheSchemaDescribes() throws {
        let valid = [
            #"{"name": "Canada", "capital": "Ottawa", "languages": ["en", "fr"], "population": 40000000, "continent": "America", "big": true}"#,
            "{\n  \"name\":\"A\",\"capital\" : \"B\",\n\"languages\":[\"x\"],\"population\":-3,\"continent\":\"Europe\",\"big\":false,\"area\":1.5e3,\"motto\":null}",
            #"{"name":"A","capital":"B","languages":["x","y","z"],"population":0,"continent":"Africa","big":true,"motto":"hi"}"#,
            #"{"name":"A","capital":"B","languages":["x"],"population":7,"continent":"Africa","big":true,"area":2}"#,
        ]
        for text in valid {
            #expect(try Self.accepts(Self.country, text) == (true, true), "\(text)")
            let bytes = Array(text.utf8)
            let compiled = try CompiledSchema(Self.country)
            for n in 0..<bytes.count {
                var recognizer = SchemaRecognizer(schema: compiled)
                let fed = recognizer.feed(Array(bytes[..<n]), schema: compiled)
                #expect(fed && !recognizer.isComplete, "prefix \(n) of \(text)")
            }
        }
    }

    @Test func refusesWhatItDoesNot() throws {
        let base = #"{"name":"A","capital":"B","languages":["x"],"population":7,"continent":"Africa","big":true"#
        let invalid = [
            base + #","extra":1}"#,                                        // not a property
            #"{"capital":"B","name":"A"}"#,                                 // out of order
            #"{"name":"A","capital":"B","languages":["x"],"population":7,"continent":"Africa"}"#,  // big missing
            #"{"name":"A","capital":"B","languages":[],"population":7"#,     // minItems 1
            #"{"name":"A","capital":"B","languages":["a","b","c","d"]"#,    // maxItems 3
            #"{"name":"A","capital":"B","languages":["x"],"population":7.5"#,  // an integer
            #"{"name":"A","capital":"B","languages":["x"],"population":1e3"#,
            #"{"name":"A","capital":"B","languages":["x"],"population":7,"continent":"Asia""#,  // not in the enum
            #"{"name":"A","capital":"B","languages":["x"],"population":7,"continent":"Africaa""#,
            base + #","motto":3}"#,                                           // string or null
            base + #","area":"big"}"#,
            #"{"name":1"#, #"{"name":null"#, #"{"name":["#,
            base + #","area":1,"area":2}"#,                                  // twice
            base + #","motto":null,"area":1}"#,                              // optional ones in order
        ]
        // each is refused at the byte that breaks the schema, not merely left unfinished
        for text in invalid {
            #expect(try !Self.accepts(Self.country, text).accepted, "\(text) accepted")
        }
    }

    @Test func referencesEnumsAndAlternatives() throws {
        // a tree: nodes refer back to their own definition
        let tree = JSONSchema.defining(
            ["node": .object([.init("v", .literals([.number("1"), .number("12"), .boolean(true), .null])),
                              .init("kids", .array(items: .reference("node")), required: false)])],
            root: .reference("node"))
        #expect(try Self.accepts(tree, #"{"v":12,"kids":[{"v":1},{"v":true,"kids":[]},{"v":null}]}"#) == (true, true))
        #expect(try Self.accepts(tree, #"{"v":1 }"#) == (true, true))
        #expect(try !Self.accepts(tree, #"{"v":13}"#).accepted)
        #expect(try !Self.accepts(tree, #"{"v":false}"#).accepted)
        #expect(try !Self.accepts(tree, #"{"v":1,"kids":[{"v":2}]}"#).accepted)
        #expect(try Self.accepts(.anyObject, #"{"any":[1,{"x":null}]}"#) == (true, true))
        // no properties: only {}
        #expect(try Self.accepts(.object([]), "{ }") == (true, true))
        #expect(try !Self.accepts(.object([]), #"{"a""#).accepted)
        // alternatives each keep their own enum (more than 64 values in all)
        let many = JSONSchema.object([.init("age", .anyOf([.literals((0..<62).map { .string("x\($0)") }),
                                                            .literals([.number("30"), .number("7")])]))])
        #expect(try Self.accepts(many, #"{"age":30}"#) == (true, true))
        #expect(try Self.accepts(many, #"{"age":"x61"}"#) == (true, true))
        #expect(try !Self.accepts(many, #"{"age":31}"#).accepted)
        // an empty array allowed, and maxItems 0
        #expect(try Self.accepts(.object([.init("a", .array(items: .any, maxItems: 0))]), #"{"a":[]}"#) == (true, true))
        #expect(try !Self.accepts(.object([.init("a", .array(items: .any, maxItems: 0))]), #"{"a":[1"#).accepted)
        // strings in an enum are written as encode writes them
        let quoted = JSONSchema.object([.init("q", .literals([.string("say \"hi\"\n")]))])
        #expect(try Self.accepts(quoted, #"{"q":"say \"hi\"\n"}"#) == (true, true))
        // schemas a generation cannot follow
        #expect(throws: ShimmyError.self) { try JSONSchema.anyOf([.string, .literals([.string("a")])]).check() }
        #expect(throws: ShimmyError.self) { try JSONSchema.string.check() }
        #expect(throws: ShimmyError.self) { try JSONSchema.object([.init("a", .string), .init("a", .integer)]).check() }
        #expect(throws: ShimmyError.self) { try JSONSchema.object([.init("a", .reference("missing"))]).check() }
        #expect(throws: ShimmyError.self) { try JSONSchema.object([.init("a", .array(items: .any, minItems: 3, maxItems: 2))]).check() }
        #expect(throws: ShimmyError.self) { try JSONSchema.anyOf([.string, .array(items: .any)]).check() }
        // an anyOf that contains itself adds nothing by it: here only null
        let alone = JSONSchema.defining(["a": .anyOf([.reference("a"), .null])], root: .object([.init("a", .reference("a"))]))
        #expect(try Self.accepts(alone, #"{"a":null}"#) == (true, true))
        #expect(try !Self.accepts(alone, #"{"a":{"#).accepted)
    }

    /// Alternatives that take the same JSON type are read side by side until the answer parts from all but one.
    @Test func alternativesOfOneType() throws {
        // Union[int, float]
        let number = JSONSchema.object([.init("v", .anyOf([.integer, .number]))])
        #expect(try Self.accepts(number, #"{"v":3}"#) == (true, true))
        #expect(try Self.accepts(number, #"{"v":-1.5e2}"#) == (true, true))
        #expect(try !Self.accepts(number, #"{"v":"3"}"#).accepted)
        // objects told apart by a constant, as a tool call or a discriminated union
        let call = JSONSchema.object([.init("call", .anyOf([
            .object([.init("name", .literals([.string("weather")])), .init("arguments", .object([.init("city", .string)]))]),
            .object([.init("name", .literals([.string("add")])),
                     .init("arguments", .object([.init("a", .integer), .init("b", .integer)]))]),
        ]))])
        #expect(try Self.accepts(call, #"{"call":{"name":"add","arguments":{"a":1,"b":2}}}"#) == (true, true))
        #expect(try Self.accepts(call, #"{"call": {"name": "weather", "arguments": {"city": "Oslo"}}}"#) == (true, true))
        #expect(try !Self.accepts(call, #"{"call":{"name":"add","arguments":{"city""#).accepted)
        #expect(try !Self.accepts(call, #"{"call":{"name":"weather","arguments":{"a""#).accepted)
        #expect(try !Self.accepts(call, #"{"call":{"name":"sub""#).accepted)
        #expect(try !Self.accepts(call, #"{"call":{"name":"add","arguments":{"a":1}}}"#).accepted)
        let compiled = try CompiledSchema(call)
        var recognizer = SchemaRecognizer(schema: compiled)
        #expect(recognizer.feed(Array(#"{"call":{"name":"#.utf8), schema: compiled) && recognizer.readings == 2)
        #expect(recognizer.feed(Array(#""a"#.utf8), schema: compiled) && recognizer.readings == 1)
        // overlapping objects: the shorter is whole where the longer may go on
        let overlap = JSONSchema.object([.init("x", .anyOf([.object([.init("a", .string)]),
                                                            .object([.init("a", .string), .init("b", .integer)])]))])
        #expect(try Self.accepts(overlap, #"{"x":{"a":"s"}}"#) == (true, true))
        #expect(try Self.accepts(overlap, #"{"x":{"a":"s","b":2}}"#) == (true, true))
        #expect(try !Self.accepts(overlap, #"{"x":{"b":2}}"#).accepted)
        // a root of alternatives, and the bound on their number
        let roots = JSONSchema.anyOf([.object([.init("tool", .string)]), .object([.init("response", .string)])])
        #expect(try Self.accepts(roots, #"{"response":"hi"}"#) == (true, true))
        #expect(try !Self.accepts(roots, #"{"answer""#).accepted)
        // readings that come together are kept once: a list of Union[int, float] stays at two readings, and
        // a union after it still has all its alternatives
        let numbers = JSONSchema.object([.init("nums", .array(items: .anyOf([.integer, .number]))),
                                         .init("pet", .anyOf([.object([.init("kind", .literals([.string("cat")]))]),
                                                              .object([.init("kind", .literals([.string("dog")]))])]))])
        let list = #"{"nums": ["# + (1...200).map(String.init).joined(separator: ", ") + "], "
        let compiledNumbers = try CompiledSchema(numbers)
        var reading = SchemaRecognizer(schema: compiledNumbers)
        var most = 0
        var fedAll = true
        for byte in Array(list.utf8) {
            fedAll = fedAll && reading.feed(byte, schema: compiledNumbers)
            most = max(most, reading.readings)
        }
        #expect(fedAll && most == 2)
        let dog = reading.feed(Array(#""pet": {"kind": "dog"}}"#.utf8), schema: compiledNumbers)
        #expect(dog && reading.isComplete)
        // and readings that parted only in what a value spent (a literal's candidates, an integer's rule) too
        let mixed = JSONSchema.object([.init("nums", .array(items: .anyOf([.literals((0..<64).map { .number(String($0)) }),
                                                                           .integer, .number]))),
                                       .init("pet", .anyOf([.object([.init("kind", .literals([.string("cat")]))]),
                                                            .object([.init("kind", .literals([.string("dog")]))])]))])
        let compiledMixed = try CompiledSchema(mixed)
        var mixedReading = SchemaRecognizer(schema: compiledMixed)
        var mostMixed = 0
        var fedMixed = true
        for byte in Array((#"{"nums": ["# + (0..<64).map(String.init).joined(separator: ", ") + "], ").utf8) {
            fedMixed = fedMixed && mixedReading.feed(byte, schema: compiledMixed)
            mostMixed = max(mostMixed, mixedReading.readings)
        }
        #expect(fedMixed && mostMixed == 3)
        let mixedDog = mixedReading.feed(Array(#""pet": {"kind": "dog"}}"#.utf8), schema: compiledMixed)
        #expect(mixedDog && mixedReading.isComplete)
        let alternatives = (0..<CompiledSchema.maxAlternatives).map { JSONSchema.object([.init("k\($0)", .null)]) }
        try JSONSchema.anyOf(alternatives).check()
        #expect(throws: ShimmyError.self) { try JSONSchema.anyOf(alternatives + [.anyObject]).check() }
    }

    /// Nesting: an answer is never begun where it could not end within 32 levels. A schema whose answers need
    /// more (or never end) is refused; an optional recursion stops nesting at the limit; a chain of references
    /// far longer than any stack allows is refused, not followed.
    @Test func nestingIsBounded() throws {
        func chain(_ length: Int, required: Bool) -> JSONSchema {
            var definitions: [String: JSONSchema] = [:]
            for i in 0..<length {
                definitions["A\(i)"] = .object(i + 1 < length ? [.init("a", .reference("A\(i + 1)"), required: required)] : [])
            }
            return .defining(definitions, root: .reference("A0"))
        }
        try chain(32, required: true).check()
        #expect(throws: ShimmyError.self) { try chain(33, required: true).check() }
        #expect(throws: ShimmyError.self) { try chain(5000, required: false).check() }
        let forever = JSONSchema.defining(["A": .object([.init("a", .reference("A"))])], root: .reference("A"))
        #expect(throws: ShimmyError.self) { try forever.check() }

        // pydantic's `class Node: value: int; next: Optional["Node"]`
        let node = JSONSchema.defining(["Node": .object([.init("value", .integer),
                                                         .init("next", .anyOf([.reference("Node"), .null]))])],
                                       root: .reference("Node"))
        #expect(try Self.accepts(node, #"{"value":1,"next":{"value":2,"next":null}}"#) == (true, true))
        let deep = String(repeating: #"{"value":1,"next":"#, count: 32)
        let compiled = try CompiledSchema(node)
        var recognizer = SchemaRecognizer(schema: compiled)
        let fedDeep = recognizer.feed(Array(deep.dropLast(8).utf8), schema: compiled)
        #expect(fedDeep)
        var opening = recognizer
        let opened = opening.feed(Array(#","next":{"#.utf8), schema: compiled)
        #expect(!opened, "a 33rd level was begun")
        var shallower = SchemaRecognizer(schema: compiled)
        let fedShallower = shallower.feed(Array(deep.dropLast(8 + 18).utf8), schema: compiled)
        let openedShallower = shallower.feed(Array(#","next":{"#.utf8), schema: compiled)
        #expect(fedShallower && openedShallower, "the 32nd level was refused")
        let closed = recognizer.feed(Array((#","next":null"# + String(repeating: "}", count: 32)).utf8), schema: compiled)
        #expect(closed && recognizer.isComplete)
    }

    /// Generations under the schema on the default model, greedy and sampled: every answer is a prefix the schema
    /// allows, and one that ended is a whole object Foundation parses, with the required keys in order.
    @Test func generationsFollowTheSchema() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        var whole = 0
        for (index, sampling) in [SamplingParameters.greedy, SamplingParameters(temperature: 0.9, seed: 9),
                                  SamplingParameters(temperature: 0.9, seed: 10)].enumerated() {
            let request = GenerationRequest(prompt: .messages([.user("Describe Canada.")]), sampling: sampling,
                                            maxTokens: 200, format: .jsonSchema(Self.country))
            let (text, stats) = try await model.generateText(request)
            let (accepted, complete) = try Self.accepts(Self.country, text)
            #expect(accepted, "\(index): \(text.debugDescription)")
            if stats.finishReason == .stop {
                whole += 1
                #expect(complete, "\(index): \(text.debugDescription)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                #expect(Set(["name", "capital", "languages", "population", "continent", "big"]).isSubset(of: object.keys))
                #expect((object["languages"] as? [String])?.count ?? 0 >= 1)
            }
        }
        #expect(whole >= 2, "too few answers ended within 200 tokens: \(whole) of 3")
    }
}
