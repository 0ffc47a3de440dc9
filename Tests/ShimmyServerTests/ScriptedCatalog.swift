import Foundation
import Shimmy
@testable import ShimmyServer

/// A deterministic stand-in for a model: its tokens are derived from the prompt, with configurable delay,
/// failure and context size. It records cancellations so tests can see that a disconnect stopped it.
final class ScriptedSession: InferenceSession, @unchecked Sendable {
    let modelName: String
    let contextLength: Int
    let details: ModelDetails
    /// Pause before each token.
    let tokenDelay: Duration
    /// Throw `generation_failed` after this many tokens (nil: never).
    let failAfter: Int?
    /// Tokens generated before an end-of-generation (nil: until maxTokens).
    let naturalLength: Int?
    /// How long a stop takes to take effect.
    let stopLatency: Duration
    /// The last tokens that give no text, as a stop string's.
    let silentTail: Int
    /// The tokens' texts, in place of the words derived from the prompt (and as many tokens).
    let script: [String]?

    private let lock = NSLock()
    private var _cancellations = 0
    private var _started = 0
    private var _lastRequest: GenerationRequest?

    init(name: String, contextLength: Int = 512, tokenDelay: Duration = .zero, failAfter: Int? = nil,
         naturalLength: Int? = nil, stopLatency: Duration = .zero, silentTail: Int = 0, script: [String]? = nil) {
        self.script = script
        self.modelName = name
        self.contextLength = contextLength
        self.tokenDelay = tokenDelay
        self.failAfter = failAfter
        self.naturalLength = script?.count ?? naturalLength
        self.stopLatency = stopLatency
        self.silentTail = silentTail
        self.details = ModelDetails(family: "llama", parameterCount: 134_515_008, quantizationLevel: "Q4_1",
                                    trainedContextLength: 8192, chatTemplate: "{{ messages }}", embeddingLength: 8,
                                    vocabularySize: 50_000)
    }

    var cancellations: Int { lock.withLock { _cancellations } }
    var started: Int { lock.withLock { _started } }
    var lastRequest: GenerationRequest? { lock.withLock { _lastRequest } }
    var embeddingRequests: [EmbeddingRequest] { lock.withLock { _embeddingRequests } }
    private var _embeddingRequests: [EmbeddingRequest] = []

    /// An embedding like an engine's in its limits (empty input, longer than the context unless `truncate`,
    /// `dimensions`), its values `scriptedVector`: one token per word or id.
    func embed(_ request: EmbeddingRequest) async throws -> Embedding {
        lock.withLock { _embeddingRequests.append(request) }
        if request.input == .text("slow") {
            // a long input: cancelling the task ends it, as the engine's work stops at its next layer
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                lock.withLock { _cancellations += 1 }
                throw error
            }
        }
        var tokens: Int
        switch request.input {
        case .text(let text): tokens = try countTokens(.text(text))
        case .tokens(let ids): tokens = ids.count
        }
        guard tokens > 0 else { throw ShimmyError(.invalidRequest, "the input is empty") }
        if tokens > contextLength {
            guard request.truncate else { throw ShimmyError(.invalidRequest, "the input is too long") }
            tokens = contextLength
        }
        var vector = Self.scriptedVector(tokens: tokens, length: details.embeddingLength)
        if let dimensions = request.dimensions { vector = Array(vector.prefix(dimensions)) }
        return Embedding(vector: vector, tokens: tokens, truncated: tokens == contextLength && request.truncate)
    }

    /// `[tokens, -0.5, 1/3, ...]`: values a test can recognize, some not exact in decimal.
    static func scriptedVector(tokens: Int, length: Int) -> [Float] {
        [Float(tokens)] + (1..<length).map { Float($0 % 2 == 0 ? 1 : -1) / Float($0 + 1) }
    }

    /// The prompt's text: raw, or messages as `role: content` lines.
    static func text(of prompt: Prompt) -> String {
        switch prompt {
        case .text(let s): return s
        case .messages(let messages): return messages.map { "\($0.role): \($0.content)" }.joined(separator: "\n")
        }
    }

    /// One token per whitespace-separated word.
    func countTokens(_ prompt: Prompt) throws -> Int {
        ScriptedSession.text(of: prompt).split(whereSeparator: { $0 == " " || $0 == "\n" }).count
    }

    /// The i-th token for a prompt: a word that depends on the prompt and the position.
    static func token(_ index: Int, prompt: Prompt) -> String {
        var hash: UInt64 = 1469598103934665603
        for byte in text(of: prompt).utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return " w\((hash &+ UInt64(index) &* 7919) % 1000)"
    }

    /// What a full generation would return (no failure, no cancellation).
    func expectedText(_ request: GenerationRequest) -> String {
        (0..<max(0, tokenCount(request) - silentTail)).map { ScriptedSession.token($0, prompt: request.prompt) }.joined()
    }

    /// The log-probability entry of the i-th token with `top` alternatives: the token itself first, then
    /// ` alt1`, ` alt2`... (values exact in binary).
    static func logprob(_ index: Int, prompt: Prompt, top: Int) -> TokenLogprob {
        let bytes = Array(token(index, prompt: prompt).utf8)
        let value = -0.25 - Float(index) / 2
        let alternatives = (0..<top).map { j -> TokenLogprob in
            if j == 0 { return TokenLogprob(token: Int32(index), bytes: bytes, logprob: value) }
            let text: String = " alt\(j)"
            return TokenLogprob(token: Int32(1000 + j), bytes: Array(text.utf8), logprob: value - Float(j))
        }
        return TokenLogprob(token: Int32(index), bytes: bytes, logprob: value, top: alternatives)
    }

    func tokenCount(_ request: GenerationRequest) -> Int { min(request.maxTokens, naturalLength ?? Int.max) }

    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        generate(request, stop: StopFlag())
    }

    /// Like an engine: a set flag stops it at its next token, `stopLatency` later (the rest of a prompt batch), and
    /// then it ends with `.done` (cancelled).
    func generate(_ request: GenerationRequest, stop: StopFlag) -> AsyncThrowingStream<GenerationEvent, Error> {
        lock.withLock {
            _started += 1
            _lastRequest = request
        }
        let counted = (try? countTokens(request.prompt)) ?? 0
        let promptTokens = request.truncation?.keptCount(counted, capacity: contextLength) ?? counted
        let count = tokenCount(request)
        let finish: FinishReason = count < request.maxTokens ? .stop : .length
        // The producer runs on the server's executor: test functions block Swift's cooperative threads, which a
        // plain Task would need. Like a real engine, it stops when the consumer goes away (onTermination).
        return AsyncThrowingStream { continuation in
            let task = Task(executorPreference: ServerExecutor.shared) { [self] in
                for index in 0..<count {
                    if let failAfter, index >= failAfter {
                        continuation.finish(throwing: ShimmyError(.generationFailed, "Scripted failure",
                                                                  details: "after \(failAfter) tokens"))
                        return
                    }
                    if tokenDelay > .zero { try? await Task.sleep(for: tokenDelay) }
                    if Task.isCancelled || stop.isSet {
                        if stopLatency > .zero { try? await Task.sleep(for: stopLatency) }
                        lock.withLock { _cancellations += 1 }
                        continuation.yield(.done(GenerationStats(promptTokens: promptTokens, completionTokens: index,
                                                                 finishReason: .cancelled)))
                        continuation.finish()
                        return
                    }
                    request.logprobs.map { $0.record(ScriptedSession.logprob(index, prompt: request.prompt, top: $0.top)) }
                    let silent = index >= count - silentTail
                    let text = script?[index] ?? ScriptedSession.token(index, prompt: request.prompt)
                    continuation.yield(.chunk(text: silent ? "" : text,
                                              tokens: [Int32(index)]))
                }
                continuation.yield(.done(GenerationStats(promptTokens: promptTokens, completionTokens: count,
                                                         finishReason: finish)))
                continuation.finish()
            }
            continuation.onTermination = { _ in stop.set() }
        }
    }
}

/// A catalog of scripted sessions; "default" or nil is the first.
final class ScriptedCatalog: ModelCatalog, @unchecked Sendable {
    let sessions: [ScriptedSession]
    /// The models' modification date.
    var modified = Date(timeIntervalSince1970: 1_700_000_000)
    init(_ sessions: [ScriptedSession]) { self.sessions = sessions }

    func availableModels() -> [ModelDescriptor] {
        sessions.map { ModelDescriptor(name: $0.modelName, path: "/models/\($0.modelName).gguf", sizeBytes: 105_000_000,
                                       modified: modified) }
    }

    func session(named name: String?) async throws -> any InferenceSession {
        guard let name, name != "default" else {
            guard let first = sessions.first else { throw ShimmyError(.modelNotFound, "No models") }
            return first
        }
        guard let session = sessions.first(where: { $0.modelName == name }) else {
            throw ShimmyError(.modelNotFound, "The specified model was not found", details: "Model '\(name)' is not available")
        }
        return session
    }

    func loadedModelNames() async -> [String] { sessions.prefix(1).map(\.modelName) }
}
