import Foundation
@testable import Shimmy
import Testing
@testable import ShimmyServer

/// Tool calling on `/v1/chat/completions` and `/api/chat`: what reaches the session (the tools in the system
/// message, the answer's schema, earlier calls and results), how an answer is read back into `tool_calls`, and
/// the 400s.
@Suite("tool calling API", .serialized)
struct ToolCallingAPITests {
    static let weather = #"{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}"#
    static let add = #"{"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}}}"#
    static let user = #"[{"role": "user", "content": "Weather in Paris?"}]"#

    static func call(_ name: String, _ arguments: JSONSchema) -> JSONSchema {
        .object([.init("name", .literals([.string(name)])), .init("arguments", arguments)])
    }
    static let weatherArguments = JSONSchema.defining(
        ["tools[0]#": .object([.init("city", .string)])], root: .object([.init("city", .string)]))
    static let addArguments = JSONSchema.defining(
        ["tools[1]#": .object([.init("a", .number), .init("b", .number)])], root: .object([.init("a", .number), .init("b", .number)]))

    /// The schema an answer is held to: calls of the tools, or a response when the model may choose.
    static func schema(_ calls: [JSONSchema], choosing: Bool, maxCalls: Int = 1,
                       response: JSONSchema = .string) -> OutputFormat {
        let answer = JSONSchema.object([.init("tool_calls", .array(items: calls.count == 1 ? calls[0] : .anyOf(calls),
                                                                   minItems: 1, maxItems: maxCalls))])
        return .jsonSchema(choosing ? .anyOf([answer, .object([.init("response", response)])]) : answer)
    }

    static func messages(_ server: TestServer) throws -> [ChatMessage] {
        guard case .messages(let messages)? = server.session.lastRequest?.prompt else {
            throw ShimmyError(.invalidRequest, "the session got no messages")
        }
        return messages
    }

    func post(_ server: TestServer, _ path: String, _ body: String) throws -> RawResponse {
        try server.client().request("POST", path, body: body)
    }

    @Test("tools reach the session: listed in the system message, the answer held to their form")
    func requests() throws {
        let server = try TestServer()
        let both = "[\(Self.weather), \(Self.add)]"
        var r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": \#(both)}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("get_weather", Self.weatherArguments), Self.call("add", Self.addArguments)], choosing: true))
        var messages = try Self.messages(server)
        #expect(messages.count == 2 && messages[0].role == "system" && messages[1] == .user("Weather in Paris?"))
        #expect(messages[0].content.contains(#"{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object""#))
        #expect(messages[0].content.contains(#"{"name":"add","description":"","parameters""#))
        #expect(messages[0].content.contains(#"{"response": "<your answer>"}"#))

        // a system message of the request's own comes first, then the tools
        r = try post(server, "/v1/chat/completions", #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x"}], "tools": [\#(Self.weather)], "tool_choice": "required", "parallel_tool_calls": true}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("get_weather", Self.weatherArguments)], choosing: false, maxCalls: ToolRequest.mostCalls))
        messages = try Self.messages(server)
        #expect(messages.count == 2 && messages[0].content.hasPrefix("Be brief.\n\nYou can call these tools:\n"))
        #expect(!messages[0].content.contains("response"))

        // a named tool: only its calls
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": \#(both), "tool_choice": {"type": "function", "function": {"name": "add"}}}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("add", Self.addArguments)], choosing: false))

        // parameters without a type of their own, or none: an object
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [{"type": "function", "function": {"name": "now", "parameters": {}}}, {"type": "function", "function": {"name": "later"}}]}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("now", .defining(["tools[0]#": .anyObject], root: .anyObject)),
                                                                   Self.call("later", .defining(["tools[1]#": .object([])], root: .object([])))], choosing: true))

        // a response format of the request's own is the form of a response
        let format = #""response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}}"#
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)], \#(format)}"#)
        #expect(r.status == 200, "\(r.text)")
        let ok = JSONSchema.object([.init("ok", .boolean)])
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("get_weather", Self.weatherArguments)], choosing: true,
                                                                  response: .defining(["#": ok], root: ok)))
        #expect(try Self.messages(server)[0].content.contains(#"{"response": <your answer as a JSON object>}"#))
        r = try post(server, "/api/chat", #"{"model": "tiny", "stream": false, "messages": \#(Self.user), "tools": [\#(Self.weather)], "format": "json"}"#)
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("get_weather", Self.weatherArguments)], choosing: true,
                                                                  maxCalls: ToolRequest.mostCalls, response: .anyObject))

        // none: no tools at all
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": \#(both), "tool_choice": "none"}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == nil)
        #expect(server.session.lastRequest?.prompt == .messages([.user("Weather in Paris?")]))

        // Ollama's: calls may be parallel
        r = try post(server, "/api/chat", #"{"model": "tiny", "stream": false, "messages": \#(Self.user), "tools": [\#(Self.weather)]}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.format == Self.schema([Self.call("get_weather", Self.weatherArguments)], choosing: true, maxCalls: ToolRequest.mostCalls))
    }

    @Test("earlier calls and their results are written as the answers that made them")
    func history() throws {
        let server = try TestServer()
        let openAI = #"[{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]"#
        var r = try post(server, "/v1/chat/completions", #"{"messages": \#(openAI), "tools": [\#(Self.weather)]}"#)
        #expect(r.status == 200, "\(r.text)")
        let expected: [ChatMessage] = [
            .user("Weather in Paris?"),
            .assistant(#"{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}"#),
            .user(#"{"tool_response":{"name":"get_weather","content":"18 C"}}"#),
        ]
        #expect(Array(try Self.messages(server).dropFirst()) == expected)

        // without tools the history is written the same way
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(openAI)}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.prompt == .messages(expected))

        let ollama = #"[{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": "18 C", "tool_name": "get_weather"}]"#
        r = try post(server, "/api/chat", #"{"model": "tiny", "stream": false, "messages": \#(ollama)}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect(server.session.lastRequest?.prompt == .messages(expected))
    }

    static let calls = [#"{"tool_calls": [{"name": "get_weather", "#, #""arguments": {"city": "Paris"}}, "#,
                        #"{"name": "add", "arguments": {"a": 1E+2, "b": 12345678901234567890123}}]}"#]

    @Test("an answer with calls is read back into tool_calls, on OpenAI's route whole and streamed")
    func openAIAnswers() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", script: Self.calls)])
        let body = #"{"messages": \#(Self.user), "tools": [\#(Self.weather), \#(Self.add)], "parallel_tool_calls": true"#
        var r = try post(server, "/v1/chat/completions", body + "}")
        #expect(r.status == 200, "\(r.text)")
        let choice = r.json?["choices"]?[0]
        #expect(choice?["finish_reason"] == "tool_calls")
        #expect(choice?["message"]?["content"] == .null)
        let calls = try #require(choice?["message"]?["tool_calls"]?.arrayValue)
        #expect(calls.count == 2)
        #expect(calls[0]["type"] == "function" && calls[0]["function"]?["name"] == "get_weather")
        // as the model wrote them
        #expect(calls[0]["function"]?["arguments"] == #"{"city": "Paris"}"#)
        #expect(calls[1]["function"]?["arguments"] == #"{"a": 1E+2, "b": 12345678901234567890123}"#)
        let ids = calls.compactMap { $0["id"]?.stringValue }
        #expect(ids.count == 2 && ids.allSatisfy { $0.hasPrefix("call_") && $0.count == 29 } && ids[0] != ids[1])

        r = try post(server, "/v1/chat/completions", body + #", "stream": true}"#)
        let events = sseData(r.text)
        #expect(events.count == 4 && events.last == "[DONE]", "\(r.text)")
        let chunks = events.dropLast().compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(chunks.first?["choices"]?[0]?["delta"] == ["role": "assistant", "content": nil])
        let streamed = try #require(chunks.dropFirst().first?["choices"]?[0]?["delta"]?["tool_calls"]?.arrayValue)
        #expect(streamed.map { $0["index"] } == [0, 1] && streamed[1]["function"]?["name"] == "add")
        #expect(streamed[0]["function"]?["arguments"] == #"{"city": "Paris"}"#)
        #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "tool_calls")
    }

    @Test("a response is the message's text; an answer cut short is the text as it is")
    func responses() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", script: [#"{"response": "#, #""It is \"sunny\".""#, "}"])])
        var r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)]}"#)
        #expect(r.json?["choices"]?[0]?["message"] == ["role": "assistant", "content": #"It is "sunny"."#], "\(r.text)")
        #expect(r.json?["choices"]?[0]?["finish_reason"] == "stop")
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)], "stream": true}"#)
        let chunks = sseData(r.text).dropLast().compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined() == #"It is "sunny"."#, "\(r.text)")
        // a JSON response is its text
        let json = try TestServer([ScriptedSession(name: "tiny", script: [#"{"response": {"ok": "#, "true, \"n\": 1E+2}}"])])
        r = try post(json, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)], "response_format": {"type": "json_object"}}"#)
        #expect(r.json?["choices"]?[0]?["message"] == ["role": "assistant", "content": #"{"ok": true, "n": 1E+2}"#], "\(r.text)")
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)], "max_tokens": 2}"#)
        #expect(r.json?["choices"]?[0]?["message"]?["content"] == #"{"response": "It is \"sunny\".""#, "\(r.text)")
        #expect(r.json?["choices"]?[0]?["finish_reason"] == "length")
        #expect(r.json?["choices"]?[0]?["message"]?["tool_calls"] == nil)
    }

    @Test("Ollama's route: calls with arguments as objects, in one line before the last when streamed")
    func ollamaAnswers() throws {
        let server = try TestServer([ScriptedSession(name: "tiny", script: Self.calls)])
        let body = #"{"model": "tiny", "messages": \#(Self.user), "tools": [\#(Self.weather), \#(Self.add)]"#
        var r = try post(server, "/api/chat", body + #", "stream": false}"#)
        #expect(r.status == 200, "\(r.text)")
        let expected: JSONValue = ["role": "assistant", "content": "", "tool_calls": [
            ["function": ["name": "get_weather", "arguments": ["city": "Paris"]]],
            ["function": ["name": "add", "arguments": ["a": 100, "b": 12345678901234567890123.0]]],
        ]]
        #expect(r.json?["message"] == expected)
        #expect(r.json?["done"] == true && r.json?["done_reason"] == "stop")
        r = try post(server, "/api/chat", body + "}")
        let lines = r.text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(lines.count == 2, "\(r.text)")
        #expect(lines.first?["message"] == expected && lines.first?["done"] == false)
        #expect(lines.last?["done"] == true && lines.last?["eval_count"] == 3)
    }

    /// A schema of `levels` objects, each requiring the next (in `$defs`: written inline, the request's own JSON
    /// would nest too deeply).
    static func nested(_ levels: Int) -> String {
        let definitions = (0..<levels).map { i in
            i + 1 < levels ? ##""A\##(i)": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A\##(i + 1)"}}, "required": ["a"]}"##
                : #""A\#(i)": {"type": "object", "properties": {}}"#
        }
        return #"{"$defs": {"# + definitions.joined(separator: ", ") + ##"}, "$ref": "#/$defs/A0"}"##
    }

    /// A tool whose parameters nest `levels` objects, each requiring the next.
    static func deep(_ levels: Int) -> String {
        #"{"type": "function", "function": {"name": "deep", "parameters": "# + nested(levels) + "}}"
    }

    @Test("parameters that fit the answer's 32 levels with the 3 the form adds are taken; one level more is a 400")
    func depth() throws {
        let server = try TestServer()
        var r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.deep(29))]}"#)
        #expect(r.status == 200, "\(r.text)")
        // a response format one level down: 31 levels fit beside tools, 32 only alone
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(Self.weather)], "response_format": {"type": "json_schema", "json_schema": {"name": "d", "schema": \#(Self.nested(31))}}}"#)
        #expect(r.status == 200, "\(r.text)")
        r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "response_format": {"type": "json_schema", "json_schema": {"name": "d", "schema": \#(Self.nested(32))}}}"#)
        #expect(r.status == 200, "\(r.text)")
        r = try post(server, "/api/chat", #"{"model": "tiny", "messages": \#(Self.user), "tools": [\#(Self.weather), \#(Self.deep(30))]}"#)
        #expect(r.status == 400 && r.json?["error"]?["message"]?.stringValue?.contains("tools[1].function.parameters") == true, "\(r.text)")
    }

    @Test("what tools cannot be is a 400 naming the field",
          arguments: [(#""tools": [\#(ToolCallingAPITests.weather)], "tool_choice": "sometimes""#, "tool_choice"),
                      (#""tools": [\#(ToolCallingAPITests.weather)], "tool_choice": {"type": "function", "function": {"name": "nope"}}"#, "tool_choice"),
                      (#""tool_choice": "required""#, "tool_choice"),
                      (#""tools": [{"type": "function", "function": {"name": "get weather"}}]"#, "tools[0].function.name"),
                      (#""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": ["object", "string"]}}}]"#, "tools[0].function.parameters"),
                      (##""tools": [{"type": "function", "function": {"name": "f", "parameters": {"$defs": {"A": {"type": "array"}}, "$ref": "#/$defs/A"}}}]"##, "tools[0].function.parameters"),
                      (#""tools": ["junk"], "tool_choice": "none""#, "tools[0]"),
                      (#""tools": [\#(ToolCallingAPITests.weather)], "tool_choice": "none", "parallel_tool_calls": "yes""#, "parallel_tool_calls"),
                      (#""tools": [\#(ToolCallingAPITests.weather)], "response_format": {"type": "json_schema", "json_schema": {"name": "d", "schema": \#(ToolCallingAPITests.nested(32))}}"#, "response_format"),
                      (#""tools": [\#(ToolCallingAPITests.deep(30))]"#, "tools[0].function.parameters"),
                      (#""tools": [\#(ToolCallingAPITests.weather)], "logprobs": true"#, "logprobs"),
                      (#""tools": [{"type": "function"}]"#, "tools[0].function"),
                      (#""tools": [{"type": "retrieval", "function": {"name": "x"}}]"#, "tools[0].type"),
                      (#""tools": [\#(ToolCallingAPITests.weather), \#(ToolCallingAPITests.weather)]"#, "tools[1].function.name"),
                      (#""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "string", "pattern": "a"}}}}}]"#,
                       "tools[0].function.parameters.properties.x.pattern"),
                      (#""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]"#, "tools[0].function.parameters"),
                      (#""functions": [{"name": "f"}]"#, "functions"),
                      (#""tools": "get_weather""#, "tools")])
    func refused(fields: String, param: String) throws {
        let server = try TestServer()
        let r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), \#(fields)}"#)
        #expect(r.status == 400, "\(r.text)")
        #expect(r.json?["error"]?["param"] == .string(param), "\(r.text)")
        #expect(server.session.lastRequest == nil)
    }

    /// Two tools whose parameters define the same `$defs` name differently: each call follows its own.
    @Test("each tool's definitions are its own")
    func definitionsPerTool() throws {
        func tool(_ name: String, _ type: String) -> String {
            ##"{"type": "function", "function": {"name": "\##(name)", "parameters": {"$defs": {"V": {"type": "\##(type)"}}, "type": "object", "properties": {"v": {"$ref": "#/$defs/V"}}, "required": ["v"]}}}"##
        }
        let server = try TestServer()
        let r = try post(server, "/v1/chat/completions", #"{"messages": \#(Self.user), "tools": [\#(tool("s", "string")), \#(tool("n", "integer"))], "tool_choice": "required"}"#)
        #expect(r.status == 200, "\(r.text)")
        guard case .jsonSchema(let schema)? = server.session.lastRequest?.format else { Issue.record("no schema"); return }
        let compiled = try CompiledSchema(schema)
        for (text, valid) in [(#"{"tool_calls":[{"name":"s","arguments":{"v":"a"}}]}"#, true),
                              (#"{"tool_calls":[{"name":"n","arguments":{"v":3}}]}"#, true),
                              (#"{"tool_calls":[{"name":"s","arguments":{"v":3"#, false),
                              (#"{"tool_calls":[{"name":"n","arguments":{"v":"a"#, false)] {
            var recognizer = SchemaRecognizer(schema: compiled)
            let fed = recognizer.feed(Array(text.utf8), schema: compiled)
            #expect(fed == valid && (!valid || recognizer.isComplete), "\(text)")
        }
    }
}
