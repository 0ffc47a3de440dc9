import Shimmy

/// Tool calling (OpenAI's `tools`, `tool_choice`, `parallel_tool_calls`; Ollama's `tools`) for any model, as
/// llama.cpp's generic tool format does for chat templates that describe no tools (SmolLM2's among them):
///
/// - the tools are listed in the system message, with the form of the answer;
/// - the answer is held by structured output to one JSON object, `{"tool_calls": [{"name": ..., "arguments":
///   {...}}]}` (each call's `arguments` of its tool's `parameters` schema) or, when the model may choose,
///   `{"response": "..."}` (or, with a response format of the request's own, `{"response": {...}}` of it);
/// - the server reads that object back into the API's `tool_calls`, or its `response` into the message's content.
///
/// Earlier calls and results in the conversation are written in the same forms (`ToolHistory`), so that the model
/// reads back what it would have written.
struct ToolRequest: Sendable, Equatable {
    struct Function: Sendable, Equatable {
        let name: String
        let description: String
        /// The parameters' schema as the request wrote it, for the prompt.
        let parameters: JSONValue
        let schema: JSONSchema
    }

    enum Choice: Sendable, Equatable {
        /// Call tools or answer (`tool_choice: "auto"`, the default).
        case auto
        /// Call one or more tools (`"required"`).
        case required
        /// Call this tool (`{"type": "function", "function": {"name": ...}}`).
        case named(String)
    }

    let functions: [Function]
    let choice: Choice
    /// Most calls in one answer: 1 unless parallel calls are allowed.
    let maxCalls: Int
    /// What a `response` is: text, or the request's own format (`DecodedGeneration.useTools`).
    var response = JSONSchema.string

    /// Most tools in a request (OpenAI's limit) and most calls in one answer.
    static let mostTools = 128
    static let mostCalls = 16

    /// `tools` with OpenAI's `tool_choice` and `parallel_tool_calls` (`openAI`; Ollama's routes have neither, and
    /// allow parallel calls); nil when there are none or `tool_choice` is `"none"` (the tools are checked all
    /// the same). OpenAI's route also holds names to OpenAI's form, `^[a-zA-Z0-9_-]{1,64}$`.
    static func decode(_ fields: FieldReader, openAI: Bool) throws -> ToolRequest? {
        let items = try fields.array("tools") ?? []
        var choice: Choice? = .auto
        if openAI, let given = fields.present("tool_choice") {
            switch (given, given["function"]?["name"]?.stringValue) {
            case (.string("none"), _): choice = nil
            case (.string("auto"), _): choice = .auto
            case (.string("required"), _): choice = .required
            case (.object, let name?) where given["type"]?.stringValue ?? "function" == "function": choice = .named(name)
            default:
                throw APIError.invalidRequest("Field 'tool_choice' is not valid",
                                              details: "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}",
                                              param: "tool_choice")
            }
        }
        guard !items.isEmpty else {
            if let choice, choice != .auto {
                throw APIError.invalidRequest("Field 'tool_choice' needs tools", details: "'tool_choice' names a tool, or requires one, but 'tools' lists none", param: "tool_choice")
            }
            return nil
        }
        guard items.count <= mostTools else {
            throw APIError.invalidRequest("Field 'tools' has too many tools", details: "at most \(mostTools) tools", param: "tools")
        }
        var functions: [Function] = []
        for (index, item) in items.enumerated() {
            let path = "tools[\(index)]"
            guard case .object = item else {
                throw APIError.invalidRequest("Field '\(path)' has the wrong type", details: "'\(path)' must be an object, got \(item.typeName)", param: path)
            }
            let tool = FieldReader(object: item, prefix: path + ".")
            if let type = try tool.string("type"), type != "function" {
                throw APIError.invalidRequest("Field '\(path).type' is not supported", details: "tools must be of type function, not \(type)", param: path + ".type")
            }
            guard let function = try tool.nested("function") else {
                throw APIError.invalidRequest("Missing field '\(path).function'", details: "'\(path).function' is required", param: path + ".function")
            }
            let name = try function.string("name", required: true, nonEmpty: true) ?? ""
            guard !openAI || (name.utf8.count <= 64 && name.utf8.allSatisfy { Self.nameBytes.contains($0) }) else {
                throw APIError.invalidRequest("Field '\(path).function.name' is not a tool name",
                                              details: "a tool name is 1 to 64 letters, digits, _ and -", param: path + ".function.name")
            }
            guard !functions.contains(where: { $0.name == name }) else {
                throw APIError.invalidRequest("Field '\(path).function.name' repeats a tool", details: "two tools are named '\(name)'", param: path + ".function.name")
            }
            // no parameters: a function that takes none; a schema with no type of its own describes an object
            var parameters = function.present("parameters") ?? ["type": "object", "properties": [:]]
            let composed = ["type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"]
            if case .object(let members) = parameters, !composed.contains(where: { parameters[$0] != nil }) {
                parameters = .object(members + [("type", "object")])
            }
            let param = path + ".function.parameters"
            let schema = try JSONSchemaDecoder.decode(parameters, param: param, namespace: path, objectsOnly: true)
            let described = Function(name: name, description: try function.string("description") ?? "",
                                     parameters: parameters, schema: schema)
            // within the answer's form, which nests the arguments three levels down
            do throws(ShimmyError) {
                try ToolRequest(functions: [described], choice: .required, maxCalls: 1).schema.check()
            } catch {
                throw APIError.invalidRequest("The parameters in '\(param)' cannot be followed",
                                              details: error.message + " (a call's arguments are 3 levels down in the answer)", param: param)
            }
            functions.append(described)
        }
        if case .named(let name)? = choice, !functions.contains(where: { $0.name == name }) {
            throw APIError.invalidRequest("Field 'tool_choice' names no tool", details: "'tool_choice' names '\(name)', which 'tools' does not list", param: "tool_choice")
        }
        // one call unless asked for more, as llama.cpp's server (OpenAI's default is true): a small model asked
        // for calls it may repeat writes the same call until max_tokens, and no call comes back at all
        let parallel = openAI ? try fields.bool("parallel_tool_calls") ?? false : true
        guard let choice else { return nil }
        let request = ToolRequest(functions: functions, choice: choice, maxCalls: parallel ? mostCalls : 1)
        do {
            try request.schema.check()
        } catch {
            throw APIError.invalidRequest("The tools cannot be followed", details: error.message, param: "tools")
        }
        return request
    }

    private static let nameBytes = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".utf8))

    /// The answer's schema: the calls, or (when the model may choose) a response.
    var schema: JSONSchema {
        let callable = functions.filter { if case .named(let name) = choice { $0.name == name } else { true } }
        let calls = callable.map { function in
            JSONSchema.object([.init("name", .literals([.string(function.name)])), .init("arguments", function.schema)])
        }
        let answer = JSONSchema.object([.init("tool_calls", .array(items: calls.count == 1 ? calls[0] : .anyOf(calls),
                                                                   minItems: 1, maxItems: maxCalls))])
        return choice == .auto ? .anyOf([answer, .object([.init("response", response)])]) : answer
    }

    /// `messages` with the tools and the answer's form in the system message (a new one first when there is none).
    func prompt(_ messages: [ChatMessage]) -> [ChatMessage] {
        let listed = functions.map {
            JSONValue.object([("name", .string($0.name)), ("description", .string($0.description)), ("parameters", $0.parameters)]).serialized
        }
        let many = maxCalls > 1 ? ", one object per call" : ""
        var text = "You can call these tools:\n" + listed.joined(separator: "\n") + "\n\n"
        switch choice {
        case .auto:
            let answer = response == .string ? #""<your answer>""# : "<your answer as a JSON object>"
            text += #"Answer with one JSON object: {"tool_calls": [{"name": "<tool>", "arguments": {<its parameters>}}]} to call a tool\#(many), or {"response": \#(answer)} to answer the user yourself."#
        case .required:
            text += #"Call a tool: answer with one JSON object, {"tool_calls": [{"name": "<tool>", "arguments": {<its parameters>}}]}\#(many)."#
        case .named(let name):
            text += #"Call \#(name): answer with one JSON object, {"tool_calls": [{"name": "\#(name)", "arguments": {<its parameters>}}]}\#(many)."#
        }
        var messages = messages
        if let first = messages.first, first.role == "system" {
            messages[0].content = first.content.isEmpty ? text : first.content + "\n\n" + text
        } else {
            messages.insert(.system(text), at: 0)
        }
        return messages
    }
}

/// The assistant's answer to a request with tools: the calls it made, else its text.
struct ToolAnswer {
    struct Call {
        /// `call_` and 24 random hex digits, as OpenAI's ids look.
        let id: String
        let name: String
        /// The arguments as the model wrote them (numbers as written).
        let arguments: String
    }

    /// The message's text: the `response` (a JSON one as the model wrote it), or the whole answer when it is not
    /// one of the two forms (cut short by `max_tokens` or a stop string); empty when there are calls.
    let content: String
    let calls: [Call]

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var reader = JSONSpans(bytes: bytes)
        let top = reader.members()
        if let response = top?["response"] {
            let raw = Array(bytes[response])
            content = (try? JSONParser.parse(raw))?.stringValue ?? String(decoding: raw, as: UTF8.self)
            calls = []
            return
        }
        var calls: [Call] = []
        if let list = top?["tool_calls"] {
            var items = JSONSpans(bytes: bytes, at: list.lowerBound)
            for item in items.elements() ?? [] {
                var call = JSONSpans(bytes: bytes, at: item.lowerBound)
                guard let members = call.members(), let name = members["name"], let arguments = members["arguments"],
                      let decoded = (try? JSONParser.parse(Array(bytes[name])))?.stringValue else { continue }
                calls.append(Call(id: "call_" + OpenAIIDs.random(), name: decoded,
                                  arguments: String(decoding: bytes[arguments], as: UTF8.self)))
            }
        }
        content = calls.isEmpty ? text : ""
        self.calls = calls
    }

    /// OpenAI's `tool_calls` (`arguments` as JSON text); `indexed` adds each call's `index`, as stream deltas have.
    func openAICalls(indexed: Bool = false) -> JSONValue {
        .array(calls.enumerated().map { index, call in
            .object((indexed ? [("index", .int(index))] : []) + [
                ("id", .string(call.id)), ("type", "function"),
                ("function", ["name": .string(call.name), "arguments": .string(call.arguments)]),
            ])
        })
    }

    /// Ollama's `tool_calls` (`arguments` as an object; as text in the odd case the server's parser refuses it,
    /// such as a number beyond a double's range).
    var ollamaCalls: JSONValue {
        .array(calls.map { call in
            let arguments = (try? JSONParser.parse(Array(call.arguments.utf8))) ?? .string(call.arguments)
            return ["function": ["name": .string(call.name), "arguments": arguments]]
        })
    }
}

/// Where the values of a JSON text are, read without decoding them: the tool form's answers give back what the
/// model wrote (`1E+2`, 23 digits) rather than a parsed and reserialized copy. The text is trusted to be JSON (it
/// was held to a schema); anything else reads as nil.
struct JSONSpans {
    let bytes: [UInt8]
    private var position: Int

    init(bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// An object's members from here, by key (the key as the JSON text writes it, decoded); nil unless a whole
    /// object is here.
    mutating func members() -> [String: Range<Int>]? {
        var found: [String: Range<Int>] = [:]
        guard opens(UInt8(ascii: "{")) else { return nil }
        if opens(UInt8(ascii: "}")) { return found }
        repeat {
            guard let keySpan = value(), let key = (try? JSONParser.parse(Array(bytes[keySpan])))?.stringValue,
                  opens(UInt8(ascii: ":")), let span = value() else { return nil }
            found[key] = span
        } while opens(UInt8(ascii: ","))
        return opens(UInt8(ascii: "}")) ? found : nil
    }

    /// An array's elements from here; nil unless a whole array is here.
    mutating func elements() -> [Range<Int>]? {
        var found: [Range<Int>] = []
        guard opens(UInt8(ascii: "[")) else { return nil }
        if opens(UInt8(ascii: "]")) { return found }
        repeat {
            guard let span = value() else { return nil }
            found.append(span)
        } while opens(UInt8(ascii: ","))
        return opens(UInt8(ascii: "]")) ? found : nil
    }

    /// The next value (whitespace before it skipped): a string, a container with all inside it, or a scalar.
    private mutating func value() -> Range<Int>? {
        skipSpace()
        let start = position
        var depth = 0
        var inString = false
        while position < bytes.count {
            let byte = bytes[position]
            if inString {
                if byte == UInt8(ascii: "\\") { position += 2; continue }
                position += 1
                if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return start..<position }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return position > start ? start..<position : nil }
                depth -= 1
                if depth == 0 {
                    position += 1
                    return start..<position
                }
            case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ":"):
                if depth == 0 { return position > start ? start..<position : nil }
            default: break
            }
            position += 1
        }
        return nil
    }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Skips whitespace and `byte` when it comes next.
    private mutating func opens(_ byte: UInt8) -> Bool {
        skipSpace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }
}

/// Earlier tool calls and their results in a conversation, written as `ToolRequest`'s answers are, since the chat
/// templates shimmy renders describe no tools: an assistant's calls as `{"tool_calls": [...]}`, a result as a user
/// message `{"tool_response": {"name", "content"}}`.
enum ToolHistory {
    /// An assistant message's `tool_calls` (`messages[i].tool_calls`): each `{"function": {"name", "arguments"}}`,
    /// with OpenAI's `id` recorded in `ids` for the results that answer it.
    static func calls(_ items: [JSONValue], at path: String, ids: inout [String: String]) throws -> [(name: String, arguments: JSONValue)] {
        try items.enumerated().map { number, item in
            guard case .object = item, let function = item["function"], let name = function["name"]?.stringValue else {
                throw APIError.invalidRequest("Field '\(path)[\(number)]' is not a call",
                                              details: "a tool call is {\"function\": {\"name\", \"arguments\"}} (OpenAI's with an id and type)",
                                              param: "\(path)[\(number)]")
            }
            if let id = item["id"]?.stringValue { ids[id] = name }
            return (name, function["arguments"].flatMap { $0 == .null ? nil : $0 } ?? .object([]))
        }
    }

    /// An assistant message's content with its calls (`arguments` parsed when they are JSON text).
    static func assistant(content: String, calls: [(name: String, arguments: JSONValue)]) -> String {
        let answer = JSONValue.object([("tool_calls", .array(calls.map { call in
            var arguments = call.arguments
            if case .string(let text) = arguments, let parsed = try? JSONParser.parse(Array(text.utf8)) { arguments = parsed }
            return .object([("name", .string(call.name)), ("arguments", arguments)])
        }))]).serialized
        return content.isEmpty ? answer : content + "\n" + answer
    }

    /// A tool's result, as the user message that brings it.
    static func result(name: String?, content: String) -> ChatMessage {
        .user(JSONValue.object([("tool_response", .object((name.map { [("name", JSONValue.string($0))] } ?? [])
                                                              + [("content", .string(content))]))]).serialized)
    }
}
