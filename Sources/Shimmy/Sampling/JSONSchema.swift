/// The shape a JSON-mode answer must have (`OutputFormat.jsonSchema`): the subset of JSON Schema that structured
/// output asks for most (what pydantic's and zod's schemas hold), read from a schema document by the server.
///
/// As llama.cpp's `json-schema-to-grammar` writes an object: the required properties in the schema's order, then
/// the optional ones in order, each at most once; no other keys. Values of `literals` (`enum`, `const`) are written
/// as `JSONSchema.encode` writes them, with no whitespace inside.
///
/// ```swift
/// let person = JSONSchema.object([.init("name", .string), .init("age", .integer)])
/// let request = GenerationRequest(prompt: .text("A person as JSON:"), maxTokens: 64, format: .jsonSchema(person))
/// ```
public indirect enum JSONSchema: Sendable, Equatable {
    /// Any JSON value.
    case any
    /// An object with these properties (in this order, required ones first when written) and no others; with no
    /// properties, any object.
    case object([Property])
    /// An array of `items`, `minItems` to `maxItems` (nil: no bound) of them.
    case array(items: JSONSchema, minItems: Int = 0, maxItems: Int? = nil)
    case string
    /// Any number.
    case number
    /// A number with no fraction or exponent.
    case integer
    case boolean
    case null
    /// One of these strings, numbers, booleans or nulls (`enum`, `const`).
    case literals([Literal])
    /// A value of one of these schemas (`anyOf`, `oneOf`, a list of `type`s); each must take a different JSON type
    /// (object, array, string, number, boolean, null), so that a value's first byte says which applies.
    case anyOf([JSONSchema])
    /// The schema `definitions` names (`$ref`), which may refer back to itself.
    case reference(String)
    /// A schema with named parts `reference` uses (`$defs`, `definitions`).
    case defining([String: JSONSchema], root: JSONSchema)

    /// One property of an object.
    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: JSONSchema
        public var required: Bool
        public init(_ name: String, _ schema: JSONSchema, required: Bool = true) {
            self.name = name
            self.schema = schema
            self.required = required
        }
    }

    /// A scalar JSON value.
    public enum Literal: Sendable, Equatable {
        case string(String)
        /// A number as written in the answer (`3`, `-0.5`, `1e3`).
        case number(String)
        case boolean(Bool)
        case null
    }

    /// How a literal is written: JSON with `"`, `\`, and control characters escaped (`\n`, `\u0001`), other
    /// characters as they are.
    public static func encode(_ literal: Literal) -> [UInt8] {
        switch literal {
        case .string(let s): return [UInt8(ascii: "\"")] + encodeStringContent(s) + [UInt8(ascii: "\"")]
        case .number(let text): return Array(text.utf8)
        case .boolean(let b): return Array((b ? "true" : "false").utf8)
        case .null: return Array("null".utf8)
        }
    }

    /// A string's characters as JSON writes them between the quotes.
    static func encodeStringContent(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        return out
    }
}

/// A `JSONSchema` as a table of nodes for `SchemaRecognizer`. Node 0 is "any value".
final class CompiledSchema: Sendable {
    /// JSON types as bits.
    struct Kinds: OptionSet, Sendable {
        let rawValue: UInt8
        init(rawValue: UInt8) { self.rawValue = rawValue }
        static let object = Kinds(rawValue: 1)
        static let array = Kinds(rawValue: 2)
        static let string = Kinds(rawValue: 4)
        static let number = Kinds(rawValue: 8)
        static let boolean = Kinds(rawValue: 16)
        static let null = Kinds(rawValue: 32)
        static let all: Kinds = [.object, .array, .string, .number, .boolean, .null]

        /// The type of a value that starts with `byte`.
        init(firstByte byte: UInt8) {
            switch byte {
            case UInt8(ascii: "{"): self = .object
            case UInt8(ascii: "["): self = .array
            case UInt8(ascii: "\""): self = .string
            case UInt8(ascii: "t"), UInt8(ascii: "f"): self = .boolean
            case UInt8(ascii: "n"): self = .null
            default: self = .number
            }
        }
    }

    struct Node: Sendable {
        var kinds = Kinds.all
        /// Numbers must be integers.
        var integerOnly = false
        /// An object's properties, required first (empty with `anyObject`).
        var names: [[UInt8]] = []
        var children: [Int32] = []
        var required: [Bool] = []
        var anyObject = true
        /// An array's items.
        var items: Int32 = 0
        var minItems = 0
        var maxItems = Int.max
        /// The types whose values must be one of `literals` (as written).
        var literalKinds: Kinds = []
        var literals: [[UInt8]] = []
    }

    /// Most properties of one object, values of one `enum`, and nesting levels a schema can hold.
    static let maxProperties = 64
    static let maxLiterals = 64

    let nodes: [Node]
    let root: Int32

    /// Throws `ShimmyError` `.invalidRequest` for a schema this subset cannot follow.
    init(_ schema: JSONSchema) throws(ShimmyError) {
        var builder = Builder()
        root = try builder.node(for: schema, definitions: [:])
        nodes = builder.nodes
        guard nodes[Int(root)].kinds.contains(.object) else {
            throw ShimmyError(.invalidRequest, "the schema must describe an object: the answer is one JSON object")
        }
    }

    private struct Builder {
        var nodes: [Node] = [Node()]
        /// Nodes of the definitions being built or built, by name.
        var named: [String: Int32] = [:]
        /// Definitions being built: their nodes are not whole yet.
        var building: Set<String> = []

        mutating func node(for schema: JSONSchema, definitions: [String: JSONSchema]) throws(ShimmyError) -> Int32 {
            switch schema {
            case .any: return 0
            case .reference(let name):
                if let index = named[name] { return index }
                guard let target = definitions[name] else {
                    throw ShimmyError(.invalidRequest, "the schema refers to '\(name)', which it does not define")
                }
                // the node exists before its children so that they may refer back to it
                let index = append(Node())
                named[name] = index
                building.insert(name)
                nodes[Int(index)] = try describe(target, definitions: definitions)
                building.remove(name)
                return index
            case .defining(let more, let root):
                return try node(for: root, definitions: definitions.merging(more) { _, new in new })
            default:
                return append(try describe(schema, definitions: definitions))
            }
        }

        mutating func append(_ node: Node) -> Int32 {
            nodes.append(node)
            return Int32(nodes.count - 1)
        }

        /// A node's contents (a reference is followed: its node is copied).
        mutating func describe(_ schema: JSONSchema, definitions: [String: JSONSchema]) throws(ShimmyError) -> Node {
            var node = Node()
            switch schema {
            case .any: break
            case .reference(let name) where building.contains(name):
                throw ShimmyError(.invalidRequest, "'\(name)' refers to itself through anyOf, which is not supported")
            case .reference, .defining:
                node = nodes[Int(try self.node(for: schema, definitions: definitions))]
            case .object(let properties):
                guard properties.count <= maxProperties else {
                    throw ShimmyError(.invalidRequest, "a schema object has more than \(maxProperties) properties")
                }
                guard Set(properties.map(\.name)).count == properties.count else {
                    throw ShimmyError(.invalidRequest, "a schema object names a property twice")
                }
                node.kinds = .object
                node.anyObject = properties.isEmpty
                for property in properties.filter(\.required) + properties.filter({ !$0.required }) {
                    node.names.append(JSONSchema.encodeStringContent(property.name))
                    node.children.append(try self.node(for: property.schema, definitions: definitions))
                    node.required.append(property.required)
                }
            case .array(let items, let minItems, let maxItems):
                guard minItems >= 0, (maxItems ?? Int.max) >= minItems else {
                    throw ShimmyError(.invalidRequest, "a schema array's minItems is above its maxItems")
                }
                node.kinds = .array
                node.items = try self.node(for: items, definitions: definitions)
                node.minItems = minItems
                node.maxItems = maxItems ?? Int.max
            case .string: node.kinds = .string
            case .number: node.kinds = .number
            case .integer:
                node.kinds = .number
                node.integerOnly = true
            case .boolean: node.kinds = .boolean
            case .null: node.kinds = .null
            case .literals(let values):
                guard !values.isEmpty, values.count <= maxLiterals else {
                    throw ShimmyError(.invalidRequest, "a schema enum needs 1 to \(maxLiterals) values")
                }
                node.literals = values.map(JSONSchema.encode)
                for literal in node.literals { node.literalKinds.insert(Kinds(firstByte: literal[0])) }
                for literal in node.literals {
                    var check = JSONRecognizer()
                    guard check.feed(Array("{\"v\":".utf8) + literal + [UInt8(ascii: "}")]), check.isComplete else {
                        throw ShimmyError(.invalidRequest, "a schema enum value is not a JSON value: \(String(decoding: literal, as: UTF8.self))")
                    }
                }
                node.kinds = node.literalKinds
            case .anyOf(let alternatives):
                guard !alternatives.isEmpty else { throw ShimmyError(.invalidRequest, "a schema anyOf is empty") }
                node.kinds = []
                for alternative in alternatives {
                    let part = try describe(alternative, definitions: definitions)
                    guard node.kinds.isDisjoint(with: part.kinds) else {
                        throw ShimmyError(.invalidRequest, "the alternatives of a schema anyOf must take different JSON types (object, array, string, number, boolean, null)")
                    }
                    node.kinds.formUnion(part.kinds)
                    if part.kinds.contains(.number) { node.integerOnly = part.integerOnly }
                    if part.kinds.contains(.object) {
                        (node.names, node.children, node.required, node.anyObject) = (part.names, part.children, part.required, part.anyObject)
                    }
                    if part.kinds.contains(.array) {
                        (node.items, node.minItems, node.maxItems) = (part.items, part.minItems, part.maxItems)
                    }
                    node.literalKinds.formUnion(part.literalKinds)
                    node.literals += part.literals
                }
            }
            return node
        }
    }
}

/// `JSONRecognizer` that also keeps the answer to a `CompiledSchema`: each value's type, an object's keys (in
/// order, required ones present), array lengths, enum values, integers. Its state is a few hundred bytes with no
/// storage of its own, so trying a token on a copy is cheap; the schema is passed to each call.
struct SchemaRecognizer {
    /// Most nesting levels under a schema.
    static let maxDepth = 32

    private var lexer = JSONRecognizer()
    /// Per open container: its node.
    private var frames = InlineArray<32, Int32>(repeating: 0)
    /// Per open container: the next property's position (objects) or the items so far (arrays).
    private var cursors = InlineArray<32, Int32>(repeating: 0)
    private var depth = 0
    /// Bit i: whether container i is an array.
    private var arrays: UInt32 = 0
    /// The node of the next value.
    private var expected: Int32
    /// While a key is written: the properties it may still be (bits), and its bytes so far.
    private var keyCandidates: UInt64 = 0
    private var keyOffset = 0
    /// While a value that must be a literal is written: the literals it may still be (bits), its bytes so far, and
    /// the node whose literals they are (-1: none).
    private var literalCandidates: UInt64 = 0
    private var literalOffset = 0
    private var literalNode: Int32 = -1
    /// The number being written must be an integer.
    private var integerOnly = false

    init(schema: CompiledSchema) { expected = schema.root }

    /// Whether the bytes fed so far are a whole object that the schema accepts.
    var isComplete: Bool { lexer.isComplete }

    mutating func feed(_ bytes: [UInt8], schema: CompiledSchema) -> Bool {
        for byte in bytes where !feed(byte, schema: schema) { return false }
        return true
    }

    /// Feeds one byte; false when the answer cannot go on with it (the state is then undefined: feed a copy).
    mutating func feed(_ byte: UInt8, schema: CompiledSchema) -> Bool {
        var numberEnded = false
        let step = lexer.step(byte, numberEnded: &numberEnded)
        if numberEnded && literalNode >= 0 {
            guard endsLiteral(schema) else { return false }
        }
        switch step {
        case .rejected: return false
        case .whitespace, .colon: return true
        case .keyOpen, .keyByte, .keyClose:
            guard depth > 0 else { return false }
            return key(step, byte, schema)
        case .open:
            let node = schema.nodes[Int(expected)]
            let kind = CompiledSchema.Kinds(firstByte: byte)
            guard node.kinds.contains(kind), depth < Self.maxDepth, beginValue(schema) else { return false }
            frames[depth] = expected
            cursors[depth] = 0
            if kind == .array { arrays |= 1 << UInt32(depth) } else { arrays &= ~(1 << UInt32(depth)) }
            depth += 1
            if kind == .array { expected = node.items }
            return true
        case .close:
            guard depth > 0 else { return false }
            let node = schema.nodes[Int(frames[depth - 1])]
            let cursor = Int(cursors[depth - 1])
            if byte == UInt8(ascii: "}") {
                // every required property written
                guard node.anyObject || !node.required[cursor...].contains(true) else { return false }
            } else {
                guard cursor >= node.minItems else { return false }
            }
            depth -= 1
            return true
        case .comma:
            guard depth > 0 else { return false }
            let node = schema.nodes[Int(frames[depth - 1])]
            let cursor = Int(cursors[depth - 1])
            if !innermostIsArray { return node.anyObject || cursor < node.names.count }
            expected = node.items
            return cursor < node.maxItems
        case .scalarStart:
            let node = schema.nodes[Int(expected)]
            let kind = CompiledSchema.Kinds(firstByte: byte)
            guard node.kinds.contains(kind), beginValue(schema) else { return false }
            integerOnly = kind == .number && node.integerOnly
            if node.literalKinds.contains(kind) {
                literalNode = expected
                literalCandidates = Self.filter(Self.allBits(node.literals.count), node.literals, at: 0, byte)
                literalOffset = 1
                return literalCandidates != 0
            }
            return true
        case .scalarByte(let ends):
            if literalNode >= 0 {
                let literals = schema.nodes[Int(literalNode)].literals
                literalCandidates = Self.filter(literalCandidates, literals, at: literalOffset, byte)
                literalOffset += 1
                guard literalCandidates != 0 else { return false }
                if ends { return endsLiteral(schema) }
                return true
            }
            if integerOnly && (byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")) { return false }
            return true
        }
    }

    /// A byte of an object's key: it must spell one of the properties that may come next.
    private mutating func key(_ step: JSONRecognizer.Step, _ byte: UInt8, _ schema: CompiledSchema) -> Bool {
        switch step {
        case .keyOpen:
            let node = schema.nodes[Int(frames[depth - 1])]
            guard !node.anyObject else { return true }
            // the next properties up to and including the first required one
            keyCandidates = 0
            keyOffset = 0
            var k = Int(cursors[depth - 1])
            while k < node.names.count {
                keyCandidates |= 1 << UInt64(k)
                if node.required[k] { break }
                k += 1
            }
            return keyCandidates != 0
        case .keyByte:
            let node = schema.nodes[Int(frames[depth - 1])]
            guard !node.anyObject else { return true }
            keyCandidates = Self.filter(keyCandidates, node.names, at: keyOffset, byte)
            keyOffset += 1
            return keyCandidates != 0
        case .keyClose:
            let node = schema.nodes[Int(frames[depth - 1])]
            guard !node.anyObject else {
                expected = 0
                return true
            }
            guard let k = Self.whole(keyCandidates, node.names, length: keyOffset) else { return false }
            cursors[depth - 1] = Int32(k + 1)
            expected = node.children[k]
            return true
        default:
            return false
        }
    }

    /// A value begins in the innermost container: an array counts it against `maxItems`.
    private mutating func beginValue(_ schema: CompiledSchema) -> Bool {
        guard innermostIsArray else { return true }
        let node = schema.nodes[Int(frames[depth - 1])]
        guard Int(cursors[depth - 1]) < node.maxItems else { return false }
        cursors[depth - 1] += 1
        return true
    }

    private var innermostIsArray: Bool { depth > 0 && arrays & (1 << UInt32(depth - 1)) != 0 }

    /// The literal being written ends here: it must be whole.
    private mutating func endsLiteral(_ schema: CompiledSchema) -> Bool {
        let literals = schema.nodes[Int(literalNode)].literals
        literalNode = -1
        return Self.whole(literalCandidates, literals, length: literalOffset) != nil
    }

    private static func allBits(_ count: Int) -> UInt64 { count >= 64 ? ~0 : (1 << UInt64(count)) - 1 }

    /// The candidates (bits) whose byte at `offset` is `byte`.
    private static func filter(_ candidates: UInt64, _ texts: [[UInt8]], at offset: Int, _ byte: UInt8) -> UInt64 {
        var kept: UInt64 = 0
        var rest = candidates
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            if offset < texts[k].count && texts[k][offset] == byte { kept |= 1 << UInt64(k) }
        }
        return kept
    }

    /// The candidate that is exactly `length` bytes long.
    private static func whole(_ candidates: UInt64, _ texts: [[UInt8]], length: Int) -> Int? {
        var rest = candidates
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            if texts[k].count == length { return k }
        }
        return nil
    }
}
