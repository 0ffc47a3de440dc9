import Shimmy

/// Decoding of Ollama `/api/chat` bodies: `{model, messages, stream = true, options, keep_alive}`.
public enum OllamaRequestDecoder {
    /// Ollama's own sampling defaults (temperature 0.8, top_p 0.9, top_k 40, repeat_penalty 1.1).
    public static let defaultSampling = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.9, repeatPenalty: 1.1)

    /// A chat request; `options` takes temperature, top_k, top_p, min_p, num_predict, stop, seed,
    /// repeat_penalty, repeat_last_n, presence_penalty, frequency_penalty (others such as num_ctx are ignored).
    public static func chat(_ body: [UInt8]) throws -> DecodedGeneration {
        let fields = try FieldReader.parse(body)
        let model = try fields.string("model", required: true)
        guard let items = try fields.array("messages", required: true), !items.isEmpty else {
            throw APIError.invalidRequest("Field 'messages' is empty", details: "send at least one message")
        }
        let messages = try items.enumerated().map { index, item -> ChatMessage in
            guard case .object = item else {
                throw APIError.invalidRequest("Field 'messages[\(index)]' has the wrong type",
                                              details: "'messages[\(index)]' must be an object, got \(item.typeName)")
            }
            let message = FieldReader(object: item, prefix: "messages[\(index)].")
            return ChatMessage(role: try message.string("role", required: true) ?? "user",
                               content: try message.string("content") ?? "")
        }
        var sampling = defaultSampling
        var maxTokens: Int?
        var stop: [String] = []
        if let options = try fields.nested("options") {
            if let t = try options.number("temperature", in: 0...100) { sampling.temperature = Float(t) }
            if let k = try options.integer("top_k", in: RequestRanges.topK) { sampling.topK = k }
            if let p = try options.number("top_p", in: RequestRanges.probability) { sampling.topP = Float(p) }
            if let p = try options.number("min_p", in: RequestRanges.probability) { sampling.minP = Float(p) }
            if let p = try options.number("repeat_penalty", in: 0...100) { sampling.repeatPenalty = Float(p) }
            if let n = try options.integer("repeat_last_n", in: -1...1_000_000) { sampling.repeatLastN = n }
            if let p = try options.number("presence_penalty", in: RequestRanges.penalty) { sampling.presencePenalty = Float(p) }
            if let p = try options.number("frequency_penalty", in: RequestRanges.penalty) { sampling.frequencyPenalty = Float(p) }
            if let seed = try options.integer("seed", in: RequestRanges.seed) { sampling.seed = UInt64(bitPattern: Int64(seed)) }
            if let n = try options.integer("num_predict", in: -2...RequestRanges.maxTokens.upperBound), n > 0 { maxTokens = n }
            stop = try options.stringList("stop") ?? []
        }
        return DecodedGeneration(model: model, prompt: .messages(messages), sampling: sampling, maxTokens: maxTokens,
                                 stop: stop, stream: try fields.bool("stream") ?? true)
    }

    /// The model named by `/api/show` (`model`, or the older `name`).
    public static func showModel(_ body: [UInt8]) throws -> String {
        let fields = try FieldReader.parse(body)
        if let model = try fields.string("model") { return model }
        guard let name = try fields.string("name") else {
            throw APIError.invalidRequest("Missing field 'model'", details: "'model' is required")
        }
        return name
    }
}
