import Shimmy

/// An embedding request decoded from any of the APIs: one embedding per input, in order.
public struct DecodedEmbedding: Sendable, Equatable {
    /// The requested model; nil for the default (OpenAI's route, as its other routes).
    public var model: String?
    /// What to embed, in the order of the answer.
    public var inputs: [EmbeddingInput]
    /// The request field each input came from (`input`, `input[2]`, `prompt`), which errors about it name.
    public var names: [String]
    /// Unit length (`EmbeddingRequest.normalize`).
    public var normalize = true
    /// The first values only (`EmbeddingRequest.dimensions`).
    public var dimensions: Int?
    /// Cut an input longer than the context (`EmbeddingRequest.truncate`).
    public var truncate = false
    /// OpenAI's `encoding_format: "base64"`: each vector as the base64 of its little-endian f32 values.
    public var base64 = false
    /// Ollama's reading of `dimensions`: more than the model has give the whole vector (OpenAI's is an error).
    public var wholeVectorBeyondLength = false

    public init(model: String?, inputs: [EmbeddingInput], names: [String]) {
        self.model = model
        self.inputs = inputs
        self.names = names
    }

    /// The engine request for one of the inputs.
    public func request(_ input: EmbeddingInput) -> EmbeddingRequest {
        EmbeddingRequest(input: input, normalize: normalize, dimensions: dimensions, truncate: truncate)
    }
}

/// Decoding of `/v1/embeddings` (OpenAI), `/api/embed` and `/api/embeddings` (Ollama) bodies.
public enum EmbeddingRequestDecoder {
    /// `{model, input, encoding_format = "float", dimensions, user}` (`model` optional, as on the other `/v1`
    /// routes): `input` is a string, an array of strings, an array of token ids (this model's, as
    /// `shimmy tokenize` prints them) or an array of such arrays, none of them empty, at most
    /// `RequestRanges.embeddingInputs` inputs. Too long an input is an error, as OpenAI's.
    public static func openAI(_ body: [UInt8]) throws -> DecodedEmbedding {
        let fields = try FieldReader.parse(body)
        let model = try fields.string("model")
        guard let input = fields.present("input") else {
            throw APIError.invalidRequest("Missing field 'input'", details: "'input' is required", param: "input")
        }
        let inputs = try openAIInputs(input)
        var decoded = DecodedEmbedding(model: model, inputs: inputs.map(\.input), names: inputs.map(\.name))
        decoded.dimensions = try fields.integer("dimensions", in: RequestRanges.dimensions)
        switch try fields.string("encoding_format") ?? "float" {
        case "float": break
        case "base64": decoded.base64 = true
        case let other:
            throw APIError.invalidRequest("Field 'encoding_format' is out of range",
                                          details: "'encoding_format' must be \"float\" or \"base64\", got \"\(other)\"",
                                          param: "encoding_format")
        }
        _ = try fields.string("user")
        return decoded
    }

    private static func openAIInputs(_ input: JSONValue) throws -> [(input: EmbeddingInput, name: String)] {
        let expected = "a string, an array of strings, an array of token ids or an array of arrays of token ids"
        func wrong(_ got: JSONValue) -> APIError {
            .invalidRequest("Field 'input' has the wrong type", details: "'input' must be \(expected), got \(got.typeName)",
                            param: "input")
        }
        func tokens(_ items: [JSONValue], _ name: String) throws -> (input: EmbeddingInput, name: String) {
            guard !items.isEmpty else { throw empty(name) }
            return (.tokens(try items.enumerated().map { index, item in
                guard let id = item.integerValue, RequestRanges.tokenID.contains(Int(id)) else {
                    throw APIError.invalidRequest("Field '\(name)[\(index)]' is not a token id",
                                                  details: "token ids are integers in \(RequestRanges.tokenID), got \(item.serialized)",
                                                  param: "\(name)[\(index)]")
                }
                return TokenID(id)
            }), name)
        }
        if let text = input.stringValue {
            guard !text.isEmpty else { throw empty("input") }
            return [(.text(text), "input")]
        }
        guard let items = input.arrayValue else { throw wrong(input) }
        guard !items.isEmpty else { throw empty("input") }
        // one array of ids is one input, which only the context limits
        if items.allSatisfy({ $0.integerValue != nil || $0.doubleValue != nil }) { return [try tokens(items, "input")] }
        try checkCount(items)
        if items.allSatisfy({ $0.stringValue != nil }) {
            return try items.enumerated().map { index, item in
                let text = item.stringValue ?? ""
                guard !text.isEmpty else { throw empty("input[\(index)]") }
                return (.text(text), "input[\(index)]")
            }
        }
        if items.allSatisfy({ $0.arrayValue != nil }) {
            return try items.enumerated().map { index, item in try tokens(item.arrayValue ?? [], "input[\(index)]") }
        }
        throw wrong(input)
    }

    private static func empty(_ name: String, _ details: String = "each input needs at least one token") -> APIError {
        .invalidRequest("Field '\(name)' is empty", details: details, param: name)
    }

    /// At most `RequestRanges.embeddingInputs` inputs.
    private static func checkCount(_ items: [JSONValue]) throws {
        guard items.count <= RequestRanges.embeddingInputs else {
            throw APIError.invalidRequest("Field 'input' has too many entries",
                                          details: "at most \(RequestRanges.embeddingInputs) inputs, got \(items.count)", param: "input")
        }
    }

    /// Ollama's `/api/embed`: `{model, input, truncate = true, dimensions, options, keep_alive}`, `input` a string
    /// or an array of strings; no input (absent, "" or []) only loads the model, as in Ollama. `dimensions` 0 is
    /// none and more than the model has the whole vector, as in Ollama. `options` and `keep_alive` are accepted and
    /// ignored.
    public static func ollamaEmbed(_ body: [UInt8]) throws -> DecodedEmbedding {
        let fields = try FieldReader.parse(body)
        let model = try fields.string("model", required: true, nonEmpty: true) ?? ""
        var inputs: [(input: EmbeddingInput, name: String)] = []
        if let input = fields.present("input") {
            if let text = input.stringValue {
                if !text.isEmpty { inputs = [(.text(text), "input")] }
            } else if let items = input.arrayValue {
                try checkCount(items)
                inputs = try items.enumerated().map { index, item in
                    guard let text = item.stringValue else {
                        throw APIError.invalidRequest("Field 'input[\(index)]' has the wrong type",
                                                      details: "'input' must be a string or an array of strings, got \(item.typeName) at \(index)",
                                                      param: "input[\(index)]")
                    }
                    guard !text.isEmpty else { throw empty("input[\(index)]", "each input needs text") }
                    return (.text(text), "input[\(index)]")
                }
            } else {
                throw fields.wrongType("input", "a string or an array of strings", input)
            }
        }
        var decoded = DecodedEmbedding(model: model, inputs: inputs.map(\.input), names: inputs.map(\.name))
        decoded.truncate = try fields.bool("truncate") ?? true
        // 0 is Ollama's "not set"
        decoded.dimensions = try fields.integer("dimensions", in: 0...RequestRanges.dimensions.upperBound).flatMap { $0 == 0 ? nil : $0 }
        decoded.wholeVectorBeyondLength = true
        _ = try fields.nested("options")
        return decoded
    }

    /// Ollama's older `/api/embeddings`: `{model, prompt, options, keep_alive}`, the raw (not normalized) vector;
    /// an input longer than the context loses its end. No prompt only loads the model.
    public static func ollamaEmbeddings(_ body: [UInt8]) throws -> DecodedEmbedding {
        let fields = try FieldReader.parse(body)
        let model = try fields.string("model", required: true, nonEmpty: true) ?? ""
        let prompt = try fields.string("prompt") ?? ""
        var decoded = DecodedEmbedding(model: model, inputs: prompt.isEmpty ? [] : [.text(prompt)],
                                       names: prompt.isEmpty ? [] : ["prompt"])
        decoded.normalize = false
        decoded.truncate = true
        _ = try fields.nested("options")
        return decoded
    }
}
