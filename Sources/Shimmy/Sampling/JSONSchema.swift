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
    /// An object with these properties (in this order, required ones first when written) and no others (with
    /// none, `{}`).
    case object([Property])
    /// Any object (`{"type": "object"}` alone).
    case anyObject
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
    /// A value of one of these schemas (`anyOf`, `oneOf`, a list of `type`s). Alternatives may take the same JSON
    /// type (two objects, integer and number): every alternative the answer may still be is kept open, and each
    /// is dropped as the answer parts from it, as a grammar's alternatives. At most `CompiledSchema.maxAlternatives` per type.
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

/// A `JSONSchema` as a table of nodes for `SchemaRecognizer`. Node 0 is "any value". An `anyOf` is a node that
/// sends each JSON type to the nodes of the alternatives that take it (`dispatch`); the others describe values of
/// their `kinds`. Each node knows how deeply an answer of it must nest at least, so that the recognizer never
/// opens a value it could not finish within `SchemaRecognizer.maxDepth`.
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
        static let scalars: Kinds = [.string, .number, .boolean, .null]
        /// One of the six, in the order of `dispatch`.
        static let each: [Kinds] = [.object, .array, .string, .number, .boolean, .null]

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

        /// The position of a single type in `each`.
        var index: Int { rawValue.trailingZeroBitCount }
    }

    struct Node: Sendable {
        var kinds = Kinds.all
        /// Numbers must be integers.
        var integerOnly = false
        /// An object's properties, required first.
        var names: [[UInt8]] = []
        var children: [Int32] = []
        var required: [Bool] = []
        /// Any key with any value (`names` is then empty).
        var anyObject = true
        /// An array's items.
        var items: Int32 = 0
        var minItems = 0
        var maxItems = Int.max
        /// The types whose values must be one of `literals` (as written).
        var literalKinds: Kinds = []
        var literals: [[UInt8]] = []
        /// An `anyOf`: per type (`Kinds.each`), the nodes (none an `anyOf`) that take it; empty for other nodes.
        var dispatch: [[Int32]] = []
        /// An `anyOf`'s alternatives, until `dispatch` is made from them.
        var alternatives: [Int32] = []
        /// Least nesting levels an answer of this node needs: written as an object, as an array, at all.
        var objectDepth = 1
        var arrayDepth = 1
        var minDepth = 0
    }

    /// Most properties of one object and values of one `enum`.
    static let maxProperties = 64
    static let maxLiterals = 64
    /// Most alternatives of one `anyOf` that take the same JSON type (after nested `anyOf`s are flattened).
    static let maxAlternatives = 128
    /// Most nodes, and most references followed one inside another, in one schema.
    static let maxNodes = 4096
    static let maxReferenceDepth = 128

    let nodes: [Node]
    let root: Int32

    /// Throws `ShimmyError` `.invalidRequest` for a schema this subset cannot follow.
    init(_ schema: JSONSchema) throws(ShimmyError) {
        var builder = Builder()
        let top = try builder.node(for: schema, definitions: [:])
        try builder.makeDispatch()
        builder.measureDepths()
        nodes = builder.nodes
        root = top
        guard nodes[Int(top)].kinds.contains(.object) else {
            throw ShimmyError(.invalidRequest, "the schema must describe an object: the answer is one JSON object")
        }
        guard nodes[Int(top)].objectDepth <= SchemaRecognizer.maxDepth else {
            throw ShimmyError(.invalidRequest, "the schema's answers need more than \(SchemaRecognizer.maxDepth) nesting levels, or never end (a property that requires itself)")
        }
    }

    private struct Builder {
        var nodes: [Node] = [Node()]
        /// Nodes of the definitions being built or built, by name.
        var named: [String: Int32] = [:]
        /// References being followed, one inside another.
        var level = 0

        mutating func node(for schema: JSONSchema, definitions: [String: JSONSchema]) throws(ShimmyError) -> Int32 {
            level += 1
            defer { level -= 1 }
            guard level <= CompiledSchema.maxReferenceDepth else {
                throw ShimmyError(.invalidRequest, "the schema nests more than \(CompiledSchema.maxReferenceDepth) levels of schemas and references")
            }
            switch schema {
            case .any: return 0
            case .reference(let name):
                if let index = named[name] { return index }
                guard let target = definitions[name] else {
                    throw ShimmyError(.invalidRequest, "the schema refers to '\(name)', which it does not define")
                }
                // the node exists before its contents, so that they may refer back to it
                let index = try append(Node())
                named[name] = index
                nodes[Int(index)] = try describe(target, definitions: definitions)
                return index
            case .defining(let more, let root):
                return try node(for: root, definitions: definitions.merging(more) { _, new in new })
            default:
                let index = try append(Node())
                nodes[Int(index)] = try describe(schema, definitions: definitions)
                return index
            }
        }

        mutating func append(_ node: Node) throws(ShimmyError) -> Int32 {
            guard nodes.count < CompiledSchema.maxNodes else {
                throw ShimmyError(.invalidRequest, "the schema has more than \(CompiledSchema.maxNodes) parts")
            }
            nodes.append(node)
            return Int32(nodes.count - 1)
        }

        /// A node's contents; a reference or an `anyOf` alternative becomes a node of its own.
        mutating func describe(_ schema: JSONSchema, definitions: [String: JSONSchema]) throws(ShimmyError) -> Node {
            var node = Node()
            switch schema {
            case .any: break
            case .reference, .defining:
                // an alias: an `anyOf` of one, which `makeDispatch` resolves
                node.alternatives = [try self.node(for: schema, definitions: definitions)]
            case .anyObject:
                node.kinds = .object
            case .object(let properties):
                guard properties.count <= maxProperties else {
                    throw ShimmyError(.invalidRequest, "a schema object has more than \(maxProperties) properties")
                }
                guard Set(properties.map(\.name)).count == properties.count else {
                    throw ShimmyError(.invalidRequest, "a schema object names a property twice")
                }
                node.kinds = .object
                node.anyObject = false
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
                for literal in node.literals {
                    var check = JSONRecognizer()
                    guard check.feed(Array("{\"v\":".utf8) + literal + [UInt8(ascii: "}")]), check.isComplete else {
                        throw ShimmyError(.invalidRequest, "a schema enum value is not a JSON value: \(String(decoding: literal, as: UTF8.self))")
                    }
                    node.literalKinds.insert(Kinds(firstByte: literal[0]))
                }
                node.kinds = node.literalKinds
            case .anyOf(let alternatives):
                guard !alternatives.isEmpty else { throw ShimmyError(.invalidRequest, "a schema anyOf is empty") }
                for alternative in alternatives {
                    node.alternatives.append(try self.node(for: alternative, definitions: definitions))
                }
            }
            return node
        }

        /// The types each node takes (an `anyOf`'s from its alternatives, which may refer back to it), then each
        /// `anyOf`'s dispatch straight to nodes that are not `anyOf`s. Nodes are visited from the last made: a
        /// node's parts are made after it, so one pass settles all but references back.
        mutating func makeDispatch() throws(ShimmyError) {
            let unions = nodes.indices.filter { !nodes[$0].alternatives.isEmpty }.reversed()
            for u in unions { nodes[u].kinds = [] }
            var changed = true
            while changed {
                changed = false
                for u in unions {
                    var kinds: Kinds = []
                    for a in nodes[u].alternatives { kinds.formUnion(nodes[Int(a)].kinds) }
                    if kinds != nodes[u].kinds {
                        nodes[u].kinds = kinds
                        changed = true
                    }
                }
            }
            // per type, the alternatives that take it, through nested anyOfs (one already dispatched answers at
            // once), each once, in the schema's order
            func targets(_ start: Int32, _ kind: Kinds) throws(ShimmyError) -> [Int32] {
                var found: [Int32] = []
                var seen: Set<Int32> = [start]
                var pending: [Int32] = [start]
                while let current = pending.popLast() {
                    let node = nodes[Int(current)]
                    if node.alternatives.isEmpty {
                        found.append(current)
                    } else if current != start, !node.dispatch.isEmpty {
                        for t in node.dispatch[kind.index] where seen.insert(t).inserted { found.append(t) }
                    } else {
                        for a in node.alternatives.reversed()
                        where nodes[Int(a)].kinds.contains(kind) && seen.insert(a).inserted {
                            pending.append(a)
                        }
                    }
                    guard found.count <= CompiledSchema.maxAlternatives else {
                        throw ShimmyError(.invalidRequest, "a schema anyOf has more than \(CompiledSchema.maxAlternatives) alternatives of one JSON type")
                    }
                }
                return found
            }
            for u in unions {
                var dispatch = [[Int32]](repeating: [], count: Kinds.each.count)
                for (i, kind) in Kinds.each.enumerated() where nodes[u].kinds.contains(kind) {
                    dispatch[i] = try targets(Int32(u), kind)
                }
                nodes[u].dispatch = dispatch
            }
        }

        /// Each node's least nesting, by repeating the rules until nothing changes (a recursive schema's nodes
        /// start unreachable and come down to their depth; saturated one above the limit, so it ends).
        mutating func measureDepths() {
            let beyond = SchemaRecognizer.maxDepth + 1
            for i in nodes.indices {
                nodes[i].objectDepth = beyond
                nodes[i].arrayDepth = beyond
                nodes[i].minDepth = beyond
            }
            var changed = true
            while changed {
                changed = false
                for i in nodes.indices.reversed() {
                    let n = nodes[i]
                    var object = beyond, array = beyond, least = beyond
                    if !n.dispatch.isEmpty {
                        for t in n.dispatch.joined() {
                            object = min(object, nodes[Int(t)].objectDepth)
                            array = min(array, nodes[Int(t)].arrayDepth)
                            least = min(least, nodes[Int(t)].minDepth)
                        }
                    } else {
                        if n.kinds.contains(.object) {
                            var deepest = 0
                            for (k, child) in n.children.enumerated() where n.required[k] {
                                deepest = max(deepest, nodes[Int(child)].minDepth)
                            }
                            object = min(beyond, 1 + deepest)
                        }
                        if n.kinds.contains(.array) {
                            array = min(beyond, 1 + (n.minItems > 0 ? nodes[Int(n.items)].minDepth : 0))
                        }
                        least = min(n.kinds.isDisjoint(with: .scalars) ? beyond : 0, object, array)
                    }
                    if (object, array, least) != (n.objectDepth, n.arrayDepth, n.minDepth) {
                        (nodes[i].objectDepth, nodes[i].arrayDepth, nodes[i].minDepth) = (object, array, least)
                        changed = true
                    }
                }
            }
        }
    }
}

/// `JSONRecognizer` that also keeps the answer to a `CompiledSchema`: each value's type, an object's keys (in
/// order, required ones present), array lengths, enum values, integers, and nesting (a value is begun only when
/// it can be finished within `maxDepth` levels, so the answer never reaches a point with no way on).
///
/// Where an `anyOf` lets a value be more than one alternative (two objects, integer and number), the answer is
/// read each way at once: one `SchemaPath` per reading, each dropped when a byte parts from it. All readings have
/// seen the same bytes, so they agree on whether the object is whole. The state is a few hundred bytes per
/// reading, with no storage of its own while there is one, so trying a token on a copy is cheap; the schema is
/// passed to each call.
struct SchemaRecognizer {
    /// Most nesting levels under a schema.
    static let maxDepth = 32
    /// Most readings kept at once; beyond, the later alternatives are dropped (what is written still conforms).
    static let maxReadings = 128

    private var first: SchemaPath
    private var more: [SchemaPath] = []

    init(schema: CompiledSchema) { first = SchemaPath(schema: schema) }

    /// Whether the bytes fed so far are a whole object that the schema accepts.
    var isComplete: Bool { first.isComplete }

    /// How many readings of the answer are open.
    var readings: Int { 1 + more.count }

    mutating func feed(_ bytes: [UInt8], schema: CompiledSchema) -> Bool {
        for byte in bytes where !feed(byte, schema: schema) { return false }
        return true
    }

    /// Feeds one byte; false when no reading can go on with it (the state is then undefined: feed a copy).
    /// Readings that have come to the same state are kept once (`Union[int, float]` forks at each number and
    /// comes together after it), so the bound is reached only by readings that differ.
    mutating func feed(_ byte: UInt8, schema: CompiledSchema) -> Bool {
        var forks: [SchemaPath] = []
        var trial = first
        let firstGoesOn = trial.feed(byte, schema: schema, forks: &forks)
        if more.isEmpty && forks.isEmpty {
            // one reading: no storage
            guard firstGoesOn else { return false }
            first = trial
            return true
        }
        var readings: [SchemaPath] = firstGoesOn ? [trial] : []
        for path in more {
            var trial = path
            if trial.feed(byte, schema: schema, forks: &forks) { readings.append(trial) }
        }
        var kept: [SchemaPath] = []
        for path in readings + forks where kept.count < Self.maxReadings && !kept.contains(path) { kept.append(path) }
        guard let head = kept.first else { return false }
        first = head
        more = Array(kept.dropFirst())
        return true
    }
}

/// One reading of an answer under a `CompiledSchema` (`SchemaRecognizer`): the open containers' nodes and where
/// each is.
struct SchemaPath: Equatable {
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

    var isComplete: Bool { lexer.isComplete }

    /// The same state: what the open containers are and where each is (levels beyond `depth` are left overs; what
    /// a value, key or literal spent is cleared when it ends).
    static func == (a: SchemaPath, b: SchemaPath) -> Bool {
        guard a.lexer == b.lexer, a.depth == b.depth, a.expected == b.expected, a.keyCandidates == b.keyCandidates,
              a.keyOffset == b.keyOffset, a.literalCandidates == b.literalCandidates,
              a.literalOffset == b.literalOffset, a.literalNode == b.literalNode, a.integerOnly == b.integerOnly
        else { return false }
        let levels: UInt32 = a.depth >= 32 ? ~0 : (1 << UInt32(a.depth)) - 1
        guard a.arrays & levels == b.arrays & levels else { return false }
        for level in 0..<a.depth where a.frames[level] != b.frames[level] || a.cursors[level] != b.cursors[level] {
            return false
        }
        return true
    }

    /// Feeds one byte; false when this reading cannot go on with it (the state is then undefined: feed a copy).
    /// A value that more than one alternative may be continues here as the first, and as copies in `forks` for
    /// the others.
    mutating func feed(_ byte: UInt8, schema: CompiledSchema, forks: inout [SchemaPath]) -> Bool {
        var numberEnded = false
        let step = lexer.step(byte, numberEnded: &numberEnded)
        if numberEnded {
            integerOnly = false
            if literalNode >= 0 { guard endsLiteral(schema) else { return false } }
        }
        switch step {
        case .rejected: return false
        case .whitespace, .colon: return true
        case .keyOpen, .keyByte, .keyClose:
            guard depth > 0 else { return false }
            return key(step, byte, schema)
        case .open, .scalarStart:
            let kind = CompiledSchema.Kinds(firstByte: byte)
            var opens = false
            if case .open = step { opens = true }
            let node = schema.nodes[Int(expected)]
            if node.dispatch.isEmpty {
                return node.kinds.contains(kind) && begin(expected, kind, opens: opens, byte, schema)
            }
            var survivor: SchemaPath?
            for target in node.dispatch[kind.index] {
                var trial = self
                guard trial.begin(target, kind, opens: opens, byte, schema) else { continue }
                if survivor == nil { survivor = trial } else { forks.append(trial) }
            }
            guard let survivor else { return false }
            self = survivor
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
            if !innermostIsArray {
                // another property must be able to follow
                return node.anyObject || (cursor..<node.names.count).contains { fits(node.children[$0], schema) }
            }
            expected = node.items
            return cursor < node.maxItems && fits(node.items, schema)
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

    /// A value of `target` (not an `anyOf`), of type `kind`, begins with `byte`: a container opens (`opens`), or a
    /// scalar starts.
    private mutating func begin(_ target: Int32, _ kind: CompiledSchema.Kinds, opens: Bool, _ byte: UInt8,
                                _ schema: CompiledSchema) -> Bool {
        let node = schema.nodes[Int(target)]
        if opens {
            // it must fit, with all it requires, in the levels left
            guard depth + (kind == .object ? node.objectDepth : node.arrayDepth) <= SchemaRecognizer.maxDepth,
                  beginValue(schema) else { return false }
            frames[depth] = target
            cursors[depth] = 0
            if kind == .array { arrays |= 1 << UInt32(depth) } else { arrays &= ~(1 << UInt32(depth)) }
            depth += 1
            // what is spent is cleared, so that readings in the same state compare equal
            expected = kind == .array ? node.items : 0
            return true
        }
        guard beginValue(schema) else { return false }
        expected = 0
        integerOnly = kind == .number && node.integerOnly
        if node.literalKinds.contains(kind) {
            literalNode = target
            literalCandidates = Self.filter(Self.allBits(node.literals.count), node.literals, at: 0, byte)
            literalOffset = 1
            return literalCandidates != 0
        }
        return true
    }

    /// Whether a value of `node` can be written inside the containers open now.
    private func fits(_ node: Int32, _ schema: CompiledSchema) -> Bool {
        depth + schema.nodes[Int(node)].minDepth <= SchemaRecognizer.maxDepth
    }

    /// A byte of an object's key: it must spell one of the properties that may come next.
    private mutating func key(_ step: JSONRecognizer.Step, _ byte: UInt8, _ schema: CompiledSchema) -> Bool {
        let node = schema.nodes[Int(frames[depth - 1])]
        switch step {
        case .keyOpen:
            guard !node.anyObject else { return true }
            // the next properties that fit, up to and including the first required one
            keyCandidates = 0
            keyOffset = 0
            var k = Int(cursors[depth - 1])
            while k < node.names.count {
                if fits(node.children[k], schema) { keyCandidates |= 1 << UInt64(k) }
                if node.required[k] { break }
                k += 1
            }
            return keyCandidates != 0
        case .keyByte:
            guard !node.anyObject else { return true }
            keyCandidates = Self.filter(keyCandidates, node.names, at: keyOffset, byte)
            keyOffset += 1
            return keyCandidates != 0
        case .keyClose:
            guard !node.anyObject else {
                expected = 0
                return true
            }
            guard let k = Self.whole(keyCandidates, node.names, length: keyOffset) else { return false }
            cursors[depth - 1] = Int32(k + 1)
            expected = node.children[k]
            (keyCandidates, keyOffset) = (0, 0)
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
        let length = literalOffset
        (literalNode, literalOffset) = (-1, 0)
        defer { literalCandidates = 0 }
        return Self.whole(literalCandidates, literals, length: length) != nil
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
