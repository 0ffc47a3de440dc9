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

    @Test("what structured output cannot follow is a 400 naming the place in the schema",
          arguments: [(#"{"type": "object", "properties": {"d": {"type": "string", "pattern": "^a"}}}"#, "format.properties.d.pattern"),
                      (#"{"type": "object", "properties": {"d": {"type": []}}}"#, "format.properties.d.type"),
                      (#"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}"#, "format.properties.n.minimum"),
                      (#"{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true}"#, "format.additionalProperties"),
                      (#"{"type": "object", "properties": {"e": {"enum": [{"x": 1}]}}}"#, "format.properties.e.enum[0]"),
                      (#"{"type": "object", "required": ["missing"]}"#, "format.required[0]"),
                      (#"{"type": "object", "properties": {"r": {"$ref": "http://example.com/s"}}}"#, "format.properties.r.$ref"),
                      (#"{"type": "object", "properties": {"u": {"anyOf": [{"type": "string"}, {"enum": ["a"]}]}}}"#, "format"),
                      (#"{"type": "object", "properties": {"x": {"type": "string", "enum": ["a", 1]}}}"#, "format.properties.x.enum[1]"),
                      (#"{"type": "object", "properties": {"x": {"anyOf": [{"type": "object"}, {"type": "null"}], "required": ["a"]}}}"#, "format.properties.x.required"),
                      (#"{"type": "object", "properties": {"x": {"anyOf": [{"type": "integer"}, {"type": "number"}]}}}"#, "format"),
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
