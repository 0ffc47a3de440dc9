import Shimmy

/// Reads a JSON Schema document (OpenAI's `response_format.json_schema.schema`, Ollama's `format` object) into the
/// `JSONSchema` subset that structured output follows. What it cannot follow is a 400 naming the keyword and
/// where it is, rather than an answer that ignores it.
///
/// Followed: `type` (one or a list), `properties`, `required`, `additionalProperties: false`, `items`, `minItems`,
/// `maxItems`, `enum` and `const` of strings, numbers, booleans and null, `anyOf` and `oneOf` (read as `anyOf`, as
/// llama.cpp and Ollama read it), a one-element `allOf`, `$ref` to `#`, `#/$defs/...` and `#/definitions/...`.
/// Ignored as annotations: `title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`,
/// `deprecated`, `readOnly`, `writeOnly`, `x-` keys, `format` (an annotation in JSON Schema 2020-12: a
/// `date-time` string is a string, its form not checked), and OpenAPI's `discriminator` (pydantic writes it beside
/// a `oneOf` whose alternatives a constant tells apart, which the `oneOf` itself enforces).
enum JSONSchemaDecoder {
    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment",
                                           "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "format",
                                           "discriminator"]
    static let known: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "minItems",
                                     "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref"]

    /// The schema of `value`, found in the request at `param` (`format`, `response_format.json_schema.schema`).
    /// `namespace` goes before the names its references use, so that schemas of one request that define the
    /// same names (each tool's `parameters`) can be parts of one schema.
    /// `objectsOnly`: the schema must allow nothing but objects (a tool's parameters).
    static func decode(_ value: JSONValue, param: String, namespace: String = "", objectsOnly: Bool = false) throws -> JSONSchema {
        var definitions: [String: JSONSchema] = [:]
        for (prefix, key) in [("#/$defs/", "$defs"), ("#/definitions/", "definitions")] {
            guard let table = value[key] else { continue }
            guard case .object(let members) = table else { throw wrong("\(param).\(key)", "must be an object") }
            for (name, schema) in members {
                // as a JSON pointer writes the name in a $ref
                let escaped = name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                definitions[prefix + escaped] = try node(schema, at: "\(param).\(key).\(name)")
            }
        }
        let root = try node(value, at: param)
        definitions["#"] = root
        let schema = scoped(.defining(definitions, root: root), namespace)
        do {
            try schema.check(objectsOnly: objectsOnly)
        } catch {
            throw APIError.invalidRequest("The schema in '\(param)' cannot be followed", details: error.message, param: param)
        }
        return schema
    }

    /// `schema` with `namespace` before the names of its references.
    private static func scoped(_ schema: JSONSchema, _ namespace: String) -> JSONSchema {
        guard !namespace.isEmpty else { return schema }
        switch schema {
        case .reference(let name): return .reference(namespace + name)
        case .object(let properties):
            return .object(properties.map { JSONSchema.Property($0.name, scoped($0.schema, namespace), required: $0.required) })
        case .array(let items, let minItems, let maxItems):
            return .array(items: scoped(items, namespace), minItems: minItems, maxItems: maxItems)
        case .anyOf(let alternatives): return .anyOf(alternatives.map { scoped($0, namespace) })
        case .defining(let definitions, let root):
            return .defining(Dictionary(uniqueKeysWithValues: definitions.map { (namespace + $0.key, scoped($0.value, namespace)) }),
                             root: scoped(root, namespace))
        case .any, .anyObject, .string, .number, .integer, .boolean, .null, .literals: return schema
        }
    }

    private static func wrong(_ path: String, _ what: String) -> APIError {
        .invalidRequest("Unsupported JSON schema at '\(path)'", details: "'\(path)' \(what)", param: path)
    }

    private static func node(_ value: JSONValue, at path: String) throws -> JSONSchema {
        if value == true { return .any }
        guard case .object(let members) = value else { throw wrong(path, "must be a schema object") }
        for (key, _) in members where !known.contains(key) && !annotations.contains(key) && !key.hasPrefix("x-") {
            throw wrong("\(path).\(key)", "is a keyword shimmy's structured output does not follow; leave it out")
        }
        // beside $ref, enum, const, anyOf, oneOf and allOf, no keyword that would add to what they say: it would
        // go unchecked (`type` beside enum and const is checked against their values)
        for key in ["$ref", "enum", "const", "anyOf", "oneOf", "allOf"] where value[key] != nil {
            for (other, _) in members where other != key && known.contains(other)
                && !(other == "type" && (key == "enum" || key == "const")) {
                throw wrong("\(path).\(other)", "beside \(key) is not supported; put it inside the alternatives or leave it out")
            }
        }
        if let reference = value["$ref"] {
            guard let target = reference.stringValue,
                  target == "#" || target.hasPrefix("#/$defs/") || target.hasPrefix("#/definitions/")
            else { throw wrong("\(path).$ref", "must be #, #/$defs/NAME or #/definitions/NAME") }
            return .reference(target)
        }
        if let values = value["enum"] ?? value["const"].map({ JSONValue.array([$0]) }) {
            guard case .array(let items) = values, !items.isEmpty else { throw wrong("\(path).enum", "must be a non-empty array") }
            let literals = try items.enumerated().map { index, item in try literal(item, at: "\(path).enum[\(index)]") }
            // a type beside them must take every value
            if value["type"] != nil {
                let allowed = try typeNames(value["type"], at: path)
                for (index, item) in items.enumerated() where !allowed.contains(where: { Self.takes($0, item) }) {
                    throw wrong("\(path).enum[\(index)]", "is not of the type \(allowed.joined(separator: " or "))")
                }
            }
            return .literals(literals)
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            guard let list = value[key] else { continue }
            guard case .array(let items) = list, !items.isEmpty else { throw wrong("\(path).\(key)", "must be a non-empty array") }
            let alternatives = try items.enumerated().map { try node($1, at: "\(path).\(key)[\($0)]") }
            if key == "allOf" {
                guard alternatives.count == 1 else { throw wrong("\(path).allOf", "must have one schema") }
                return alternatives[0]
            }
            return alternatives.count == 1 ? alternatives[0] : .anyOf(alternatives)
        }
        var types = try typeNames(value["type"], at: path)
        if value["type"] == nil {
            // a schema without type: what its keywords describe, else anything
            let objectWords = ["properties", "required", "additionalProperties"], arrayWords = ["items", "minItems", "maxItems"]
            if objectWords.contains(where: { value[$0] != nil }) { types.append("object") }
            if arrayWords.contains(where: { value[$0] != nil }) { types.append("array") }
        }
        if types.isEmpty { return .any }
        let schemas = try types.map { try typed($0, value, at: path) }
        return schemas.count == 1 ? schemas[0] : .anyOf(schemas)
    }

    private static func typed(_ type: String, _ value: JSONValue, at path: String) throws -> JSONSchema {
        switch type {
        case "object":
            var properties: [JSONSchema.Property] = []
            if let list = value["properties"] {
                guard case .object(let members) = list else { throw wrong("\(path).properties", "must be an object") }
                properties = try members.map { JSONSchema.Property($0, try node($1, at: "\(path).properties.\($0)"), required: false) }
            }
            if let list = value["required"] {
                guard case .array(let names) = list else { throw wrong("\(path).required", "must be an array of names") }
                for (index, name) in names.enumerated() {
                    guard let s = name.stringValue, let k = properties.firstIndex(where: { $0.name == s }) else {
                        throw wrong("\(path).required[\(index)]", "must name one of the properties")
                    }
                    properties[k].required = true
                }
            }
            let extra = value["additionalProperties"]
            // without properties and additionalProperties (or with it true), any object, as llama.cpp reads it
            if value["properties"] == nil && value["required"] == nil && (extra == nil || extra == true || extra == .object([])) {
                return .anyObject
            }
            guard extra == nil || extra == false else {
                throw wrong("\(path).additionalProperties", "must be false (or absent) beside properties: only the listed properties are written")
            }
            return .object(properties)
        case "array":
            let items = try value["items"].map { try node($0, at: "\(path).items") } ?? .any
            let minItems = try count(value["minItems"], at: "\(path).minItems") ?? 0
            let maxItems = try count(value["maxItems"], at: "\(path).maxItems")
            return .array(items: items, minItems: minItems, maxItems: maxItems)
        case "string": return .string
        case "number": return .number
        case "integer": return .integer
        case "boolean": return .boolean
        case "null": return .null
        default: throw wrong("\(path).type", "names no JSON type: '\(type)'")
        }
    }

    /// The names `type` lists; none when it is absent.
    private static func typeNames(_ type: JSONValue?, at path: String) throws -> [String] {
        switch type {
        case .none: return []
        case .some(.string(let name)): return [name]
        case .some(.array(let names)):
            guard !names.isEmpty else { throw wrong("\(path).type", "must name at least one type") }
            return try names.map { name in
                guard let s = name.stringValue else { throw wrong("\(path).type", "must list type names") }
                return s
            }
        case .some: throw wrong("\(path).type", "must be a type name or a list of them")
        }
    }

    /// Whether a value is of the JSON Schema type `name`.
    private static func takes(_ name: String, _ value: JSONValue) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("number", .integer), ("number", .double),
             ("integer", .integer): return true
        case ("integer", .double(let d)): return d.rounded() == d
        default: return false
        }
    }

    private static func count(_ value: JSONValue?, at path: String) throws -> Int? {
        guard let value else { return nil }
        guard let n = value.integerValue, n >= 0, n <= 1_000_000 else { throw wrong(path, "must be an integer from 0 to 1000000") }
        return Int(n)
    }

    private static func literal(_ value: JSONValue, at path: String) throws -> JSONSchema.Literal {
        switch value {
        case .null: return .null
        case .bool(let b): return .boolean(b)
        case .string(let s): return .string(s)
        case .integer, .double: return .number(value.serialized)
        case .array, .object: throw wrong(path, "must be a string, number, boolean or null")
        }
    }
}
