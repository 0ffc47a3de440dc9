import Shimmy

/// A generation request decoded from any of the APIs, before a model is chosen.
public struct DecodedGeneration: Sendable, Equatable {
    /// The requested model; nil for the default.
    public var model: String?
    public var prompt: Prompt
    public var sampling: SamplingParameters
    /// Most tokens to generate; nil fills the rest of the context.
    public var maxTokens: Int?
    public var stop: [String]
    public var stream: Bool
    /// OpenAI `stream_options.include_usage`.
    public var includeUsage: Bool
    /// Ollama's `/api/chat`: a conversation longer than the context loses its oldest messages (never the system
    /// ones or the last), as Ollama's does, instead of the error the other routes give.
    public var dropsOldestMessages = false
    /// Ollama's `/api/generate`: a prompt that does not fit the context loses its middle, keeping this many tokens
    /// of its start (`num_keep`, default 4) and the most recent ones (`PromptTruncation`), as Ollama's runner does,
    /// instead of the error the other routes give.
    public var keptPromptStart: Int?
    /// OpenAI's and Ollama's `logprobs`: nil for none, else how many most likely tokens to list beside each
    /// generated token's own log-probability (`top_logprobs`, or the completions route's `logprobs` number).
    public var logprobs: Int?
    /// OpenAI's `response_format: {"type": "json_object"}`, Ollama's `format: "json"`: JSON mode.
    public var format: OutputFormat?
    /// The request's tools: the answer is read back into tool calls (`ToolAnswer`).
    var tools: ToolRequest?

    public init(model: String?, prompt: Prompt, sampling: SamplingParameters = SamplingParameters(),
                maxTokens: Int?, stop: [String] = [], stream: Bool = false, includeUsage: Bool = false) {
        self.model = model
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.stream = stream
        self.includeUsage = includeUsage
    }

    /// Tools for this generation: listed in the prompt, and the answer held to their form; a format of the
    /// request's own (at `formatParam`) is the form of a `response` (JSON mode: any object), and has no part when
    /// the tools must be called. Not with logprobs, which would be of the tool form's text.
    mutating func useTools(_ request: ToolRequest, formatParam: String) throws {
        var request = request
        switch format {
        case .json?: request.response = .anyObject
        case .jsonSchema(let schema)?: request.response = schema
        case nil: break
        }
        if format != nil, request.choice == .auto {
            do {
                // the response one level down in the answer
                try JSONSchema.object([.init("response", request.response)]).check()
            } catch {
                throw APIError.invalidRequest("The schema in '\(formatParam)' cannot be followed with tools",
                                              details: error.message + " (with tools, a response is 1 level down in the answer)",
                                              param: formatParam)
            }
        }
        guard logprobs == nil else {
            throw APIError.invalidRequest("Field 'logprobs' is not supported with tools",
                                          details: "send logprobs without tools", param: "logprobs")
        }
        guard case .messages(let messages) = prompt else { return }
        prompt = .messages(request.prompt(messages))
        format = .jsonSchema(request.schema)
        tools = request
    }

    /// The engine request, with `maxTokens` resolved against the room left in the context.
    public func generationRequest(contextLength: Int, promptTokens: Int) -> GenerationRequest {
        let room = max(1, contextLength - promptTokens)
        return GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: min(maxTokens ?? room, room), stop: stop,
                                 logprobs: logprobs.map { LogprobRecorder(top: $0) }, format: format)
    }
}

/// Limits shared by the decoders, which `OpenAPIDocument` states and the CLI checks too.
public enum RequestRanges {
    public static let maxTokens = 1...1_000_000
    public static let temperature = 0.0...2.0
    /// Ollama's `options.temperature`.
    public static let ollamaTemperature = 0.0...100.0
    public static let probability = 0.0...1.0
    public static let penalty = -2.0...2.0
    /// llama.cpp's `repeat_penalty`: 0 and 1 turn it off.
    public static let repeatPenalty = 0.0...100.0
    public static let repeatLastN = -1...1_000_000
    /// Ollama's `num_keep`: -1 keeps as much of the prompt's start as fits.
    public static let numKeep = -1...1_000_000
    /// Ollama's `num_predict`: -1 and -2 (and 0) mean the rest of the context.
    public static let numPredict = -2...maxTokens.upperBound
    public static let topK = 0...1_000_000
    public static let seed = Int(Int64.min)...Int(Int64.max)
    /// Most `stop` strings: 4 on `/v1`, as OpenAI allows; 16 on the other routes.
    public static let openAIStopStrings = 4
    public static let stopStrings = 16
    /// Most likely tokens listed beside each generated one (`top_logprobs`; OpenAI's and Ollama's limit, which
    /// the completions route's `logprobs` number shares).
    public static let topLogprobs = 0...20
    /// OpenAI's `logit_bias`: each bias, and most tokens biased.
    public static let logitBias = -100.0...100.0
    public static let logitBiasTokens = 1024
    /// Most inputs of one embedding request (OpenAI's limit).
    public static let embeddingInputs = 2048
    /// An embedding's `dimensions` (the model's own length is checked when it runs).
    public static let dimensions = 1...1_000_000
    /// A token id in an embedding request's `input` (the vocabulary is checked when it runs).
    public static let tokenID = 0...Int(Int32.max)

    /// The seed a request's `seed` asks for: -1 is a random one, as in llama.cpp and Ollama (whose default it is).
    static func seed(_ value: Int) -> UInt64? { SamplingParameters.seed(requested: Int64(value)) }
}

extension FieldReader {
    /// `logprobs: true` with `top_logprobs` (0 to 20, default 0), as OpenAI's chat and Ollama's routes take them:
    /// the number of most likely tokens to list, or nil when `logprobs` is absent or false. `topNeedsLogprobs`:
    /// a `top_logprobs` above 0 without `logprobs: true` is an error (OpenAI's), rather than ignored (Ollama's).
    func logprobsRequest(topNeedsLogprobs: Bool) throws -> Int? {
        let wanted = try bool("logprobs") ?? false
        let top = try integer("top_logprobs", in: RequestRanges.topLogprobs)
        if topNeedsLogprobs, let top, top > 0, !wanted {
            throw APIError.invalidRequest("Field '\(prefix)top_logprobs' needs logprobs",
                                          details: "'\(prefix)top_logprobs' is only allowed with 'logprobs': true",
                                          param: prefix + "top_logprobs")
        }
        return wanted ? top ?? 0 : nil
    }

    /// The sampling fields Ollama's `options` and the OpenAI routes name alike (the latter as llama.cpp's server
    /// does), each checked against its range: top_k, top_p, min_p, repeat_penalty, repeat_last_n, presence_penalty,
    /// frequency_penalty, seed (-1: a random one). Temperature's range differs between them.
    func readSampling(into sampling: inout SamplingParameters) throws {
        if let k = try integer("top_k", in: RequestRanges.topK) { sampling.topK = k }
        if let p = try number("top_p", in: RequestRanges.probability) { sampling.topP = Float(p) }
        if let p = try number("min_p", in: RequestRanges.probability) { sampling.minP = Float(p) }
        if let p = try number("repeat_penalty", in: RequestRanges.repeatPenalty) { sampling.repeatPenalty = Float(p) }
        if let n = try integer("repeat_last_n", in: RequestRanges.repeatLastN) { sampling.repeatLastN = n }
        if let p = try number("presence_penalty", in: RequestRanges.penalty) { sampling.presencePenalty = Float(p) }
        if let p = try number("frequency_penalty", in: RequestRanges.penalty) { sampling.frequencyPenalty = Float(p) }
        if let seed = try integer("seed", in: RequestRanges.seed) { sampling.seed = RequestRanges.seed(seed) }
    }
}

/// Why the decoders refuse a field that more than one of them knows (`FieldReader.refuse`).
enum Unsupported {
    static let format = "format must be \"json\" or a JSON schema object"
    static let think = "thinking is not supported by this model"
    static let images = "images are not supported: the models shimmy runs read text only"
    static let suffix = "fill-in-the-middle (suffix) is not supported"
}

/// Decoding of the shimmy 1.1 API's `/api/generate` and WebSocket `/ws/generate` bodies.
public enum ShimmyRequestDecoder {
    /// `{model, prompt, max_tokens = 100, temperature = 0.7, stream = false}`; `top_p`, `top_k`, `stop`
    /// and `seed` are accepted as extensions.
    public static func generate(_ body: [UInt8]) throws -> DecodedGeneration {
        let fields = try FieldReader.parse(body)
        return try generate(fields)
    }

    static func generate(_ fields: FieldReader) throws -> DecodedGeneration {
        let model = try fields.string("model", required: true, nonEmpty: true)
        let prompt = try fields.string("prompt", required: true) ?? ""
        var sampling = SamplingParameters()
        if let t = try fields.number("temperature", in: RequestRanges.temperature) { sampling.temperature = Float(t) }
        if let p = try fields.number("top_p", in: RequestRanges.probability) { sampling.topP = Float(p) }
        if let k = try fields.integer("top_k", in: RequestRanges.topK) { sampling.topK = k }
        if let seed = try fields.integer("seed", in: RequestRanges.seed) { sampling.seed = RequestRanges.seed(seed) }
        return DecodedGeneration(
            model: model, prompt: .text(prompt), sampling: sampling,
            maxTokens: try fields.integer("max_tokens", in: RequestRanges.maxTokens) ?? 100,
            stop: try fields.stringList("stop", maxCount: RequestRanges.stopStrings) ?? [], stream: try fields.bool("stream") ?? false)
    }
}
