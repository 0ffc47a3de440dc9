import Foundation
import Shimmy
import Testing
@testable import ShimmyServer

/// JSON schemas in requests: OpenAI's `response_format.json_schema` and Ollama's `format` object, read into
/// `JSONSchema`, and the 400s for what structured output cannot follow.
@Suite("structured output API", .serialized)
struct StructuredOutputAPITests {
    /// What pydantic writes for `class Pet(BaseModel): kind: Literal["cat", "dog"]; age: int | None` inside a
    /// `Person` with a name and a list of pets.
    static let pydantic = ##"{"$defs": {"Pet": {"properties": {"kind": {"enum": ["cat", "dog"], "title": "Kind", "type": "string"}, "age": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Age"}}, "required": ["kind", "age"], "title": "Pet", "type": "object"}}, "properties": {"name": {"title": "Name", "type": "string"}, "pets": {"items": {"$ref": "#/$defs/Pet"}, "title": "Pets", "type": "array"}, "nickname": {"type": "string"}}, "required": ["name", "pets"], "title": "Person", "type": "object", "additionalProperties": false}"##

    static let expected: JSONSchema = {
        let pet = JSONSchema.object([.init("kind", .literals([.string("cat"), .string("dog")])),
                                     .init("age", .anyOf([.integer, .null]))])
        let person = JSONSchema.object([.init("name", .string), .init("pets", .array(items: .reference("#/$defs/Pet"))),
                                        .init("nickname", .string, required: false)])
        return .defining(["#/$defs/Pet": pet, "#": person], root: person)
    }()

    @Test("OpenAI's json_schema and Ollama's format object reach the session as the schema they describe",
          arguments: [("/v1/chat/completions", #""response_format": {"type": "json_schema", "json_schema": {"name": "person", "strict": true, "schema": "#  + pydantic + "}}"),
                      ("/api/chat", #""format": "#  + pydantic),
                      ("/api/generate", #""format": "#  + pydantic)])
    func schemas(path: String, field: String) throws {
        let server = try TestServer()
        let input = path.hasSuffix("chat/completions") || path == "/api/chat"
            ? #""messages": [{"role": "user", "content": "x"}]"# : #""prompt": "x""#
        let response = try server.client().request("POST", path, body: #"{"model": "tiny", "stream": false, "#  + input + ", " + field + "}")
        #expect(response.status == 200, "\(response.text)")
        #expect(server.session.lastRequest?.format == .jsonSchema(Self.expected))
    }

    @Test("a $ref beside annotations and x- keys, to a name with a slash written as a JSON pointer; a type inferred from keywords")
    func references() throws {
        let server = try TestServer()
        let schema = ##"{"$defs": {"a/b": {"required": ["v"], "properties": {"v": {"type": "string", "enum": ["x"]}}}}, "$ref": "#/$defs/a~1b", "title": "T", "x-note": 1}"##
        let response = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "stream": false, "messages": [{"role": "user", "content": "x"}], "format": "#  + schema + "}")
        #expect(response.status == 200, "\(response.text)")
        let object = JSONSchema.object([.init("v", .literals([.string("x")]))])
        #expect(server.session.lastRequest?.format == .jsonSchema(.defining(["#/$defs/a~1b": object, "#": .reference("#/$defs/a~1b")],
                                                                             root: .reference("#/$defs/a~1b"))))
    }

    /// pydantic's `pet: Cat | Dog = Field(discriminator="pet_type")`: a `oneOf` of two objects told apart by a
    /// constant, with OpenAPI's `discriminator` beside it as an annotation; and `int | float`.
    @Test("alternatives of one JSON type: a discriminated union, integer or number")
    func unionsOfOneType() throws {
        let schema = ##"{"$defs": {"Cat": {"properties": {"pet_type": {"const": "cat", "title": "Pet Type", "type": "string"}, "meows": {"title": "Meows", "type": "integer"}}, "required": ["pet_type", "meows"], "title": "Cat", "type": "object"}, "Dog": {"properties": {"pet_type": {"const": "dog", "title": "Pet Type", "type": "string"}, "barks": {"title": "Barks", "type": "number"}}, "required": ["pet_type", "barks"], "title": "Dog", "type": "object"}}, "properties": {"pet": {"discriminator": {"mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}, "propertyName": "pet_type"}, "oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "title": "Pet"}, "n": {"anyOf": [{"type": "integer"}, {"type": "number"}]}}, "required": ["pet", "n"], "title": "Model", "type": "object"}"##
        let server = try TestServer()
        let response = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "stream": false, "messages": [{"role": "user", "content": "x"}], "format": "#  + schema + "}")
        #expect(response.status == 200, "\(response.text)")
        let cat = JSONSchema.object([.init("pet_type", .literals([.string("cat")])), .init("meows", .integer)])
        let dog = JSONSchema.object([.init("pet_type", .literals([.string("dog")])), .init("barks", .number)])
        let model = JSONSchema.object([.init("pet", .anyOf([.reference("#/$defs/Cat"), .reference("#/$defs/Dog")])),
                                       .init("n", .anyOf([.integer, .number]))])
        #expect(server.session.lastRequest?.format == .jsonSchema(.defining(["#/$defs/Cat": cat, "#/$defs/Dog": dog, "#": model],
                                                                             root: model)))
    }

    @Test("what structured output cannot follow is a 400 naming the place in the schema",
          arguments: [(#"{"type": "object", "properties": {"d": {"type": "string", "pattern": "^a"}}}"#, "format.properties.d.pattern"),
                      (#"{"type": "object", "properties": {"d": {"type": []}}}"#, "format.properties.d.type"),
                      (#"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}"#, "format.properties.n.minimum"),
                      (#"{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true}"#, "format.additionalProperties"),
                      (#"{"type": "object", "properties": {"e": {"enum": [{"x": 1}]}}}"#, "format.properties.e.enum[0]"),
                      (#"{"type": "object", "required": ["missing"]}"#, "format.required[0]"),
                      (#"{"type": "object", "properties": {"r": {"$ref": "http://example.com/s"}}}"#, "format.properties.r.$ref"),
                      (#"{"type": "object", "properties": {"u": {"anyOf": ["# + Array(repeating: #"{"type": "string"}"#, count: 129).joined(separator: ", ") + "]}}}", "format"),
                      (#"{"type": "object", "properties": {"x": {"type": "string", "enum": ["a", 1]}}}"#, "format.properties.x.enum[1]"),
                      (#"{"type": "object", "properties": {"x": {"anyOf": [{"type": "object"}, {"type": "null"}], "required": ["a"]}}}"#, "format.properties.x.required"),
                      (#"{"type": "string"}"#, "format"), (#"{"type": "object", "properties": {"t": {"type": "date"}}}"#, "format.properties.t.type")])
    func refused(schema: String, param: String) throws {
        let server = try TestServer()
        let response = try server.client().request("POST", "/v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": "#  + schema + "}}}")
        #expect(response.status == 400, "\(response.text)")
        let want = param.replacingOccurrences(of: "format", with: "response_format.json_schema.schema", options: .anchored)
        #expect(response.json?["error"]?["param"] == .string(want), "\(response.text)")
        let ollama = try server.client().request("POST", "/api/chat", body: #"{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "format": "#  + schema + "}")
        #expect(ollama.status == 400 && ollama.json?["error"]?["message"]?.stringValue?.contains("'\(param)'") == true, "\(ollama.text)")
        #expect(server.session.lastRequest == nil)
        let missing = try server.client().request("POST", "/v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "s"}}}"#)
        #expect(missing.status == 400 && missing.json?["error"]?["param"] == "response_format.json_schema.schema", "\(missing.text)")
    }
}
