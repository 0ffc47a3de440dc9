/// A token id in a model's vocabulary.
public typealias TokenID = Int32

/// One chat message.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user` or `assistant` (other roles are passed to the template as written).
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: text) }
}

/// What to generate from: raw text, or messages rendered with the model's chat template.
public enum Prompt: Sendable, Equatable {
    /// Raw text. Special tokens written in it are parsed as llama.cpp does; BOS only if the model asks for it.
    case text(String)
    /// Chat messages; the model's chat template is applied and the assistant turn opened.
    case messages([ChatMessage])
}

/// How the next token is chosen. Defaults follow llama.cpp's, except temperature (shimmy's API default, 0.7).
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy.
    public var temperature: Float = 0.7
    /// 0 or less disables top-k.
    public var topK: Int = 40
    /// 1 disables top-p.
    public var topP: Float = 0.95
    /// 0 disables min-p.
    public var minP: Float = 0.05
    /// 1 disables the repeat penalty.
    public var repeatPenalty: Float = 1.0
    /// How many of the last tokens the penalties look at (0: none, -1: the whole context).
    public var repeatLastN: Int = 64
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// Fixes the random sequence; nil picks a random seed.
    public var seed: UInt64? = nil
    /// Added to these tokens' logits before anything else (OpenAI's and llama.cpp's `logit_bias`): -100 all but
    /// bans a token, 100 all but forces it. Ids outside the vocabulary are ignored.
    public var logitBias: [TokenID: Float] = [:]

    public init(temperature: Float = 0.7, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repeatPenalty: Float = 1.0, repeatLastN: Int = 64, presencePenalty: Float = 0,
                frequencyPenalty: Float = 0, seed: UInt64? = nil, logitBias: [TokenID: Float] = [:]) {
        self.logitBias = logitBias
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repeatPenalty = repeatPenalty
        self.repeatLastN = repeatLastN
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }

    /// Greedy decoding: always the most likely token.
    public static let greedy = SamplingParameters(temperature: 0)

    /// The `seed` a client's number asks for, as llama.cpp and Ollama read it: -1 is a random seed (nil); any other
    /// 64-bit integer fixes the sequence (a negative one by its bit pattern).
    public static func seed(requested value: Int64) -> UInt64? {
        value == -1 ? nil : UInt64(bitPattern: value)
    }
}

/// One generation request.
public struct GenerationRequest: Sendable, Equatable {
    public var prompt: Prompt
    public var sampling: SamplingParameters
    /// Most tokens to generate.
    public var maxTokens: Int
    /// Generation stops before any of these strings; the returned text never contains one.
    public var stop: [String]
    /// How a prompt that does not fit the context is cut; nil: it is an error.
    public var truncation: PromptTruncation?
    /// nil: no log-probabilities. A recorder: each generated token's log-probability and its `top` most likely
    /// tokens (`TokenLogprob`) are recorded there, but the end-of-generation token's.
    public var logprobs: LogprobRecorder?
    /// nil: free text. `.json`: one JSON object and nothing else (JSON mode).
    public var format: OutputFormat?

    public init(prompt: Prompt, sampling: SamplingParameters = SamplingParameters(), maxTokens: Int = 100,
                stop: [String] = [], truncation: PromptTruncation? = nil, logprobs: LogprobRecorder? = nil,
                format: OutputFormat? = nil) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.truncation = truncation
        self.logprobs = logprobs
        self.format = format
    }
}

/// Ollama's cut of a prompt that does not fit the context (its runner, `num_keep`): the first `keep` tokens and
/// the most recent ones, as many as leave `room` tokens of the context for the answer (Ollama fills the context
/// and shifts it while generating; shimmy does not shift, so the answer needs that room).
///
/// ```swift
/// let request = GenerationRequest(prompt: .text(longText), maxTokens: 64,
///                                 truncation: PromptTruncation(keep: 4, room: 64))
/// ```
public struct PromptTruncation: Sendable, Equatable {
    /// Tokens kept from the start (after BOS, which is kept too); -1 keeps as many as the room allows.
    public var keep: Int
    /// Tokens of the context left for the answer, at least 1 and at most half the context.
    public var room: Int

    public init(keep: Int = 4, room: Int) {
        self.keep = keep
        self.room = room
    }

    /// The kept tokens of a prompt in a context of `capacity` tokens; the prompt itself when it fits (is shorter
    /// than the context). `leading` tokens (BOS) are kept besides `keep`.
    public func apply(_ tokens: [TokenID], capacity: Int, leading: Int = 0) -> [TokenID] {
        guard tokens.count >= capacity else { return tokens }
        let target = keptCount(tokens.count, capacity: capacity)
        let start = max(0, keep < 0 ? target - 1 : min(min(max(0, keep), target) + max(0, leading), target - 1))
        return Array(tokens.prefix(start) + tokens.suffix(target - start))
    }

    /// How many tokens `apply` keeps of a prompt of `count` tokens.
    public func keptCount(_ count: Int, capacity: Int) -> Int {
        count < capacity ? count : max(1, capacity - max(1, min(room, capacity / 2)))
    }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` reached, or the context is full.
    case length
    /// The consumer went away.
    case cancelled
}

/// Timings of one generation, in milliseconds.
public struct GenerationTimings: Sendable, Equatable, Codable {
    public var promptMilliseconds: Double
    public var generationMilliseconds: Double
    public init(promptMilliseconds: Double = 0, generationMilliseconds: Double = 0) {
        self.promptMilliseconds = promptMilliseconds
        self.generationMilliseconds = generationMilliseconds
    }
}

/// What a finished generation reports.
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var finishReason: FinishReason
    public var timings: GenerationTimings
    public init(promptTokens: Int, completionTokens: Int, finishReason: FinishReason,
                timings: GenerationTimings = GenerationTimings()) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.finishReason = finishReason
        self.timings = timings
    }
}

/// One event of a generation stream.
public enum GenerationEvent: Sendable, Equatable {
    /// Text that is complete UTF-8, with the ids of the tokens that produced it. A chunk's text may be
    /// empty (a token that ends the generation, or bytes held back until a character is whole).
    case chunk(text: String, tokens: [TokenID])
    /// The last event: counts, timings, finish reason.
    case done(GenerationStats)
}

/// The one interface the CLI, the server and Swift programs use to generate text.
///
/// ```swift
/// let model = try await ModelRegistry.standard.load("default")
/// for try await event in model.generate(GenerationRequest(prompt: .text("Hello"), maxTokens: 20)) {
///     if case .chunk(let text, _) = event { print(text, terminator: "") }
/// }
/// ```
/// Generation stops within one token (or one batch of a long prompt) when the stream is dropped or its consuming task
/// is cancelled; a cancelled consumer's loop simply ends (there is no one left to receive a `.done`). To stop a
/// generation and know when its work has ended, pass a `StopFlag` instead and set it: the stream then ends with
/// `.done` (finish reason `cancelled`) once the engine has stopped. Leaving the loop with `break` drops the
/// stream only when its iterator goes out of scope: inside a function that is at once, but in a script's top-level
/// code the iterator lives on and the generation runs to `maxTokens`; there, consume the stream in a function or a
/// `Task` and cancel it.
public protocol InferenceSession: Sendable {
    /// The name the model is known by (`SmolLM2-135M-Instruct.Q4_1`, `llama3:8b`).
    var modelName: String { get }
    /// The context size generations run in.
    var contextLength: Int { get }
    /// What the model is (for `/api/show`, `/v1/models`, `shimmy probe`).
    var details: ModelDetails { get }
    /// Token count of a prompt as this session would feed it (chat template applied for messages).
    func countTokens(_ prompt: Prompt) throws -> Int
    /// Starts a generation; the stream ends after `.done`, or throws a `ShimmyError`, or ends early when its
    /// consumer is cancelled.
    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error>
    /// Starts a generation that setting `stop` ends: the stream ends with `.done` (finish reason `cancelled`)
    /// or simply ends, in both cases only once the generation's work has stopped. A server holds a generation
    /// slot until then, so the slots bound the compute really running.
    func generate(_ request: GenerationRequest, stop: StopFlag) -> AsyncThrowingStream<GenerationEvent, Error>
    /// The embedding of one input (`EmbeddingRequest`); throws a `ShimmyError`, or `CancellationError` when the
    /// task is cancelled, which should stop the work soon (a server holds a slot until it has). Sessions that
    /// compute none need not implement it: the default throws `.invalidRequest`.
    func embed(_ request: EmbeddingRequest) async throws -> Embedding
}

extension InferenceSession {
    /// For sessions without their own: forwards `generate(request)`, whose consumer setting `stop` cancels. The
    /// stream then ends at once, when the session's work may still be stopping (whatever `generate(request)`
    /// does on cancellation); a session whose work outlives that implements this method itself, as `LlamaModel`.
    public func generate(_ request: GenerationRequest, stop: StopFlag) -> AsyncThrowingStream<GenerationEvent, Error> {
        let inner = generate(request)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in inner { continuation.yield(event) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            stop.onSet { task.cancel() }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Runs a generation to its end: the whole text and the stats.
    ///
    /// ```swift
    /// let (text, stats) = try await model.generateText(GenerationRequest(prompt: .text("Hello"), maxTokens: 20))
    /// ```
    /// Throws what the stream throws, and `CancellationError` when the task is cancelled before the end.
    public func generateText(_ request: GenerationRequest) async throws -> (text: String, stats: GenerationStats) {
        var text = ""
        for try await event in generate(request) {
            switch event {
            case .chunk(let piece, _): text += piece
            case .done(let stats): return (text, stats)
            }
        }
        try Task.checkCancellation()
        throw ShimmyError(.generationFailed, "the generation ended without its final event")
    }
}

/// Facts about a loaded model, as Ollama's `/api/show` reports them.
public struct ModelDetails: Sendable, Equatable {
    /// `general.architecture` (`llama`).
    public var family: String
    /// Total parameters (elements of all tensors).
    public var parameterCount: Int
    /// Most common tensor type of the 2-D weights (`Q4_1`, `F16`).
    public var quantizationLevel: String
    /// The model's own context length (`llama.context_length`).
    public var trainedContextLength: Int
    /// The raw `tokenizer.chat_template`, when the file has one.
    public var chatTemplate: String?
    /// Values in a hidden state, and so in an embedding (`llama.embedding_length`); 0 when unknown.
    public var embeddingLength: Int
    /// Tokens of the vocabulary (`llama.vocab_size`); 0 when unknown.
    public var vocabularySize: Int
    public init(family: String = "", parameterCount: Int = 0, quantizationLevel: String = "",
                trainedContextLength: Int = 0, chatTemplate: String? = nil, embeddingLength: Int = 0,
                vocabularySize: Int = 0) {
        self.family = family
        self.parameterCount = parameterCount
        self.quantizationLevel = quantizationLevel
        self.trainedContextLength = trainedContextLength
        self.chatTemplate = chatTemplate
        self.embeddingLength = embeddingLength
        self.vocabularySize = vocabularySize
    }
}
