import Shimmy

/// Decoding of OpenAI `/v1/chat/completions` and `/v1/completions` bodies. Unknown fields are ignored; known ones
/// that would change the answer in a way shimmy cannot follow (a JSON schema keyword it cannot follow, the legacy
/// `functions`; echo, suffix, best_of on completions) are refused with invalid_request when they ask for something.
public enum OpenAIRequestDecoder {
    /// A chat completion: `messages` with string or text-part content (an assistant's `tool_calls` and `tool`
    /// results among them), the sampling fields, and `tools` (`ToolRequest`).
    public static func chat(_ body: [UInt8]) throws -> DecodedGeneration {
        let fields = try FieldReader.parse(body)
        guard let items = try fields.array("messages", required: true), !items.isEmpty else {
            throw APIError.invalidRequest("Field 'messages' is empty", details: "send at least one message", param: "messages")
        }
        // the tool each call id named, for the results that answer it
        var callNames: [String: String] = [:]
        let messages = try items.enumerated().map { try message($0.element, index: $0.offset, callNames: &callNames) }
        try fields.refuse("functions", "the legacy functions field is not supported; send tools")
        var decoded = try common(fields, prompt: .messages(messages))
        decoded.maxTokens = try fields.integer("max_completion_tokens", in: RequestRanges.maxTokens) ?? decoded.maxTokens
        decoded.logprobs = try fields.logprobsRequest(topNeedsLogprobs: true)
        if let tools = try ToolRequest.decode(fields, openAI: true) {
            try decoded.useTools(tools, formatParam: "response_format")
        }
        return decoded
    }

    /// A text completion: `prompt` is a string or an array holding one string.
    public static func completion(_ body: [UInt8]) throws -> DecodedGeneration {
        let fields = try FieldReader.parse(body)
        let prompt: String
        if let list = try? fields.stringList("prompt", maxCount: 1), let first = list.first {
            prompt = first
        } else if fields.present("prompt") == nil {
            throw APIError.invalidRequest("Missing field 'prompt'", details: "'prompt' is required", param: "prompt")
        } else {
            throw APIError.invalidRequest("Field 'prompt' has the wrong type",
                                          details: "'prompt' must be a string or an array of one string", param: "prompt")
        }
        try fields.refuse("echo", "echoing the prompt is not supported")
        try fields.refuse("suffix", Unsupported.suffix)
        try fields.refuse("best_of", "best_of above 1 is not supported", allowing: { $0 == 1 })
        var decoded = try common(fields, prompt: .text(prompt))
        // the legacy form: a number of most likely tokens, null for none
        decoded.logprobs = try fields.integer("logprobs", in: RequestRanges.topLogprobs)
        return decoded
    }

    private static func message(_ value: JSONValue, index: Int, callNames: inout [String: String]) throws -> ChatMessage {
        guard case .object = value else {
            throw APIError.invalidRequest("Field 'messages[\(index)]' has the wrong type",
                                          details: "'messages[\(index)]' must be an object, got \(value.typeName)", param: "messages[\(index)]")
        }
        let fields = FieldReader(object: value, prefix: "messages[\(index)].")
        // OpenAI's `developer` role is the system instruction of newer models
        let given = try fields.string("role", required: true) ?? "user"
        let role = given == "developer" ? "system" : given
        let content: String
        switch value["content"] {
        case .none, .some(.null): content = ""
        case .some(.string(let s)): content = s
        case .some(.array(let parts)):
            content = try parts.map { part -> String in
                guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                    throw APIError.invalidRequest("Unsupported content part in 'messages[\(index)].content'",
                                                  details: "only {\"type\": \"text\", \"text\": ...} parts are supported", param: "messages[\(index)].content")
                }
                return text
            }.joined()
        case .some(let other):
            throw fields.wrongType("content", "a string or an array of text parts", other)
        }
        switch role {
        case "assistant":
            guard let items = try fields.array("tool_calls"), !items.isEmpty else { break }
            let calls = try ToolHistory.calls(items, at: "messages[\(index)].tool_calls", ids: &callNames)
            return ChatMessage(role: role, content: ToolHistory.assistant(content: content, calls: calls))
        case "tool":
            let id = try fields.string("tool_call_id")
            return ToolHistory.result(name: id.flatMap { callNames[$0] }, content: content)
        case "function":
            return ToolHistory.result(name: try fields.string("name"), content: content)
        default:
            break
        }
        return ChatMessage(role: role, content: content)
    }

    private static func common(_ fields: FieldReader, prompt: Prompt) throws -> DecodedGeneration {
        if let n = try fields.integer("n", in: 1...128), n != 1 {
            throw APIError.invalidRequest("Field 'n' must be 1", details: "'n' was \(n): one choice per request is supported", param: "n")
        }
        try fields.refuse("response_format", "the type must be text, json_object (JSON mode) or json_schema",
                          allowing: { ["text", "json_object", "json_schema"].contains($0["type"]?.stringValue ?? "") })
        var sampling = SamplingParameters()
        if let t = try fields.number("temperature", in: RequestRanges.temperature) { sampling.temperature = Float(t) }
        // OpenAI's fields, and top_k, min_p, repeat_penalty, repeat_last_n, which llama.cpp's server takes here too
        try fields.readSampling(into: &sampling)
        sampling.logitBias = try logitBias(fields)
        let stream = try fields.bool("stream") ?? false
        let includeUsage = try fields.nested("stream_options")?.bool("include_usage") ?? false
        var decoded = DecodedGeneration(
            model: try fields.string("model"), prompt: prompt, sampling: sampling,
            maxTokens: try fields.integer("max_tokens", in: RequestRanges.maxTokens),
            stop: try fields.stringList("stop", maxCount: RequestRanges.openAIStopStrings) ?? [], stream: stream, includeUsage: includeUsage)
        decoded.format = try responseFormat(fields.present("response_format"))
        return decoded
    }

    /// `logit_bias`: `{"<token id>": bias}`, each bias -100 to 100, as OpenAI's (the ids are the model's own, as
    /// `shimmy tokenize` prints them; the vocabulary is checked when the model is known).
    private static func logitBias(_ fields: FieldReader) throws -> [TokenID: Float] {
        guard let biases = try fields.nested("logit_bias") else { return [:] }
        guard case .object(let members) = biases.object, members.count <= RequestRanges.logitBiasTokens else {
            throw APIError.invalidRequest("Field 'logit_bias' has too many tokens",
                                          details: "at most \(RequestRanges.logitBiasTokens) tokens", param: "logit_bias")
        }
        var bias: [TokenID: Float] = [:]
        for (key, _) in members {
            // as a number is written: digits, no sign, no leading zero
            guard let id = TokenID(key), id >= 0, key.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  key == "0" || !key.hasPrefix("0") else {
                throw APIError.invalidRequest("Field 'logit_bias' has a key that is not a token id",
                                              details: "'\(key)' is not a token id (a number from 0, as digits)", param: "logit_bias")
            }
            guard let value = try biases.number(key, in: RequestRanges.logitBias) else {
                throw APIError.invalidRequest("Field 'logit_bias.\(key)' is null", details: "a bias is a number from -100 to 100",
                                              param: "logit_bias.\(key)")
            }
            bias[id] = Float(value)
        }
        return bias
    }

    /// `response_format`: `json_object` is JSON mode, `json_schema` its `json_schema.schema`; nil for text.
    private static func responseFormat(_ value: JSONValue?) throws -> OutputFormat? {
        switch value?["type"]?.stringValue {
        case "json_object": return .json
        case "json_schema":
            guard let schema = value?["json_schema"]?["schema"] else {
                throw APIError.invalidRequest("Missing field 'response_format.json_schema.schema'",
                                              details: "a json_schema response format needs json_schema.schema",
                                              param: "response_format.json_schema.schema")
            }
            return .jsonSchema(try JSONSchemaDecoder.decode(schema, param: "response_format.json_schema.schema"))
        default: return nil
        }
    }
}
