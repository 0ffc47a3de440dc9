import Shimmy

/// Decoding of Ollama `/api/chat` bodies (`{model, messages, stream = true, options, keep_alive}`) and of Ollama's
/// `/api/generate` bodies (`{model, prompt, system, raw, stream = true, options, keep_alive}`); both take
/// `logprobs` and `top_logprobs` (0 to 20, read only with `logprobs: true`, as Ollama's).
public enum OllamaRequestDecoder {
    /// Ollama's own sampling defaults (temperature 0.8, top_p 0.9, top_k 40, min_p 0, repeat_penalty 1.1).
    public static let defaultSampling = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.9, minP: 0, repeatPenalty: 1.1)

    /// A chat request; `options` as in `options(_:)`, `tools` as `ToolRequest` (with an assistant's `tool_calls` and
    /// `tool` results in `messages`). No messages only loads the model (`generation` nil), as in Ollama. `think`
    /// and a message's `images` are refused when they ask for something.
    public static func chat(_ body: [UInt8]) throws -> (model: String, generation: DecodedGeneration?) {
        let fields = try FieldReader.parse(body)
        let model = try fields.string("model", required: true, nonEmpty: true) ?? ""
        let format = try ollamaFormat(fields)
        try fields.refuse("think", Unsupported.think)
        let tools = try ToolRequest.decode(fields, openAI: false)
        let items = try fields.array("messages") ?? []
        let messages = try items.enumerated().map { index, item -> ChatMessage in
            guard case .object = item else {
                throw APIError.invalidRequest("Field 'messages[\(index)]' has the wrong type",
                                              details: "'messages[\(index)]' must be an object, got \(item.typeName)", param: "messages[\(index)]")
            }
            let message = FieldReader(object: item, prefix: "messages[\(index)].")
            try message.refuse("images", Unsupported.images)
            let role = try message.string("role", required: true) ?? "user"
            let content = try message.string("content") ?? ""
            if role == "tool" { return ToolHistory.result(name: try message.string("tool_name"), content: content) }
            guard role == "assistant", let calls = try message.array("tool_calls"), !calls.isEmpty else {
                return ChatMessage(role: role, content: content)
            }
            var ids: [String: String] = [:]
            return ChatMessage(role: role, content: ToolHistory.assistant(
                content: content, calls: try ToolHistory.calls(calls, at: "messages[\(index)].tool_calls", ids: &ids)))
        }
        guard !messages.isEmpty else { return (model, nil) }
        let (sampling, maxTokens, stop) = try options(fields)
        var generation = DecodedGeneration(model: model, prompt: .messages(messages), sampling: sampling,
                                           maxTokens: maxTokens, stop: stop, stream: try fields.bool("stream") ?? true)
        generation.dropsOldestMessages = true
        generation.logprobs = try fields.logprobsRequest(topNeedsLogprobs: false)
        generation.format = format
        if let tools { try generation.useTools(tools, formatParam: "format") }
        return (model, generation)
    }

    /// `options`: temperature, top_k, top_p, min_p, num_predict, stop, seed, repeat_penalty, repeat_last_n,
    /// presence_penalty, frequency_penalty (others such as num_ctx are ignored), over Ollama's defaults.
    static func options(_ fields: FieldReader) throws -> (SamplingParameters, maxTokens: Int?, stop: [String]) {
        var sampling = defaultSampling
        var maxTokens: Int?
        var stop: [String] = []
        if let options = try fields.nested("options") {
            if let t = try options.number("temperature", in: RequestRanges.ollamaTemperature) { sampling.temperature = Float(t) }
            try options.readSampling(into: &sampling)
            if let n = try options.integer("num_predict", in: RequestRanges.numPredict), n > 0 { maxTokens = n }
            stop = try options.stringList("stop", maxCount: RequestRanges.stopStrings) ?? []
        }
        return (sampling, maxTokens, stop)
    }

    /// Fields of Ollama's `/api/generate` that shimmy 1.1's has not: a body with any of them is Ollama's.
    static let generateOnlyFields = ["options", "system", "template", "context", "raw", "format", "images", "keep_alive",
                                     "suffix", "think", "logprobs", "top_logprobs"]

    /// Top-level fields of shimmy 1.1's `/api/generate` that Ollama's has not (it takes them in `options`).
    static let shimmyOnlyFields = ["max_tokens", "temperature", "top_p", "top_k", "seed", "stop"]

    /// Whether a `/api/generate` request is Ollama's rather than shimmy 1.1's: its body has a field only Ollama's
    /// has, or it comes from an Ollama client library (`User-Agent: ollama-python/0.6.3 ...`, `ollama-js/...`,
    /// `ollama/...`), whose requests may carry nothing but `model`, `prompt` and `stream`, and has no field only
    /// shimmy 1.1's has.
    static func isOllamaGenerate(_ fields: FieldReader, userAgent: String?) -> Bool {
        if generateOnlyFields.contains(where: { fields.present($0) != nil }) { return true }
        if shimmyOnlyFields.contains(where: { fields.present($0) != nil }) { return false }
        guard let agent = userAgent?.lowercased() else { return false }
        return agent.hasPrefix("ollama/") || agent.hasPrefix("ollama-")
    }

    /// An Ollama `/api/generate` request. The prompt goes through the model's chat template as the user's message
    /// (after `system`'s, when given) unless `raw` is true; one that does not fit the context loses its middle
    /// (`options.num_keep`, `DecodedGeneration.keptPromptStart`). An empty prompt only loads the model (`prompt` nil).
    /// Fields that would change the output in ways shimmy cannot follow (`suffix`, `images`, `format`, `template`,
    /// `context`, `think`) are refused when they ask for something; `keep_alive` is ignored.
    static func generate(_ fields: FieldReader) throws -> (model: String, generation: DecodedGeneration?) {
        let model = try fields.string("model", required: true, nonEmpty: true) ?? ""
        try fields.refuse("suffix", Unsupported.suffix)
        try fields.refuse("images", Unsupported.images)
        let format = try ollamaFormat(fields)
        try fields.refuse("template", "a custom template is not supported; send raw: true with the prompt already templated")
        try fields.refuse("context", "context (token ids of an earlier answer) is not supported; send the conversation to /api/chat")
        try fields.refuse("think", Unsupported.think)
        let prompt = try fields.string("prompt") ?? ""
        let system = try fields.string("system") ?? ""
        let raw = try fields.bool("raw") ?? false
        guard !prompt.isEmpty else { return (model, nil) }
        let (sampling, maxTokens, stop) = try options(fields)
        let messages = (system.isEmpty ? [] : [ChatMessage(role: "system", content: system)])
            + [ChatMessage(role: "user", content: prompt)]
        var generation = DecodedGeneration(model: model, prompt: raw ? .text(prompt) : .messages(messages),
                                           sampling: sampling, maxTokens: maxTokens, stop: stop,
                                           stream: try fields.bool("stream") ?? true)
        generation.keptPromptStart = try fields.nested("options")?.integer("num_keep", in: RequestRanges.numKeep) ?? 4
        generation.logprobs = try fields.logprobsRequest(topNeedsLogprobs: false)
        generation.format = format
        return (model, generation)
    }

    /// Ollama's `format`: `"json"` is JSON mode, a JSON schema object structured output, absent or `""` free text.
    static func ollamaFormat(_ fields: FieldReader) throws -> OutputFormat? {
        switch fields.present("format") {
        case .some(.string("json")): return .json
        case .some(let schema) where schema.objectValue != nil:
            return .jsonSchema(try JSONSchemaDecoder.decode(schema, param: "format"))
        default:
            try fields.refuse("format", Unsupported.format)
            return nil
        }
    }

    /// The model named by `/api/show` (`model`, or the older `name`).
    public static func showModel(_ body: [UInt8]) throws -> String {
        let fields = try FieldReader.parse(body)
        if let model = try fields.string("model") { return model }
        guard let name = try fields.string("name") else {
            throw APIError.invalidRequest("Missing field 'model'", details: "'model' is required", param: "model")
        }
        return name
    }
}
