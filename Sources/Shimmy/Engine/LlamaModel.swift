import Foundation
import GGUF
import Synchronization
import Tensors

/// How a model is loaded.
public struct ModelOptions: Sendable, Equatable {
    /// KV-cache size in tokens; nil means the model's context length capped at 4096.
    public var contextLength: Int?
    /// Worker threads; nil means `defaultThreads`.
    public var threads: Int?
    public init(contextLength: Int? = nil, threads: Int? = nil) {
        self.contextLength = contextLength
        self.threads = threads
    }

    /// The threads a model runs on when `threads` is nil: `SHIMMY_THREADS` when it is a positive integer, else the
    /// cores this process may run on (its CPU affinity).
    public static var defaultThreads: Int { CPUInfo.defaultThreadCount }
}

/// A loaded llama-family model: weights in place from the mmap, tokenizer, chat template.
/// Shared by any number of generations; each generation gets its own KV cache (`LlamaContext`).
///
/// ```swift
/// let model = try LlamaModel.load(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// for try await event in model.generate(GenerationRequest(prompt: .text("Hello"), maxTokens: 20)) {
///     if case .chunk(let text, _) = event { print(text, terminator: "") }
/// }
/// ```
public final class LlamaModel: InferenceSession, @unchecked Sendable {
    /// The parsed file; its mapping backs every weight.
    public let file: GGUFFile
    public let config: LlamaConfig
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate
    public let modelName: String
    public let contextLength: Int
    public let details: ModelDetails
    public let options: ModelOptions
    let weights: LlamaWeights
    private let spareContexts = Mutex<[LlamaContext]>([])
    private let pieceTable = Mutex<[[UInt8]]?>(nil)

    /// Loads a GGUF file. Throws `ShimmyError` `.modelNotFound` when the file is missing and
    /// `.serverError` when it cannot be loaded (corrupt, unsupported architecture, missing tensors).
    public static func load(path: String, name: String? = nil, options: ModelOptions = ModelOptions()) throws
        -> LlamaModel
    {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ShimmyError(.modelNotFound, "no model file at \(path)")
        }
        let file: GGUFFile
        do {
            file = try GGUFFile(contentsOf: path)
        } catch {
            throw ShimmyError(.serverError, "cannot load model \(path)", details: error.description)
        }
        // The first token reads every weight: map them all now, on another thread while the tokenizer is built,
        // rather than fault them in one by one during the first forward pass (cold start). Only for files that
        // fit comfortably in memory; a larger one is left to page in as it is used.
        if file.bytes.count <= Int(ProcessInfo.processInfo.physicalMemory / 2) {
            Thread.detachNewThread { file.advise(.populate) }
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try LlamaModel(file: file, name: name ?? stem, options: options)
    }

    /// Builds a model from a parsed file (tests make tiny ones with the GGUF writer).
    public init(file: GGUFFile, name: String, options: ModelOptions = ModelOptions()) throws {
        self.file = file
        self.options = options
        config = try LlamaConfig(gguf: file)
        weights = try LlamaWeights(gguf: file, config: config)
        tokenizer = try Tokenizer(gguf: file)
        chatTemplate = ChatTemplate(gguf: file, tokenizer: tokenizer)
        modelName = name
        if let requested = options.contextLength {
            try LlamaContext.checkCapacity(requested, config: config)
            contextLength = requested
        } else {
            contextLength = min(config.contextLength, 4096)
        }
        details = Self.describe(file, config: config)
    }

    private static func describe(_ file: GGUFFile, config: LlamaConfig) -> ModelDetails {
        var counts: [GGMLType: Int] = [:]
        for t in file.tensors where t.dimensions.count >= 2 { counts[t.type, default: 0] += 1 }
        let level = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }
        return ModelDetails(family: config.architecture,
                            parameterCount: file.tensors.reduce(0) { $0 + $1.elementCount },
                            quantizationLevel: level?.key.name ?? "F32",
                            trainedContextLength: config.contextLength,
                            chatTemplate: file["tokenizer.chat_template"]?.stringValue,
                            embeddingLength: config.embeddingLength, vocabularySize: config.vocabularySize)
    }

    /// A fresh context (KV cache) of `capacity` tokens (nil: `contextLength`) using `threads` workers
    /// (nil: the model's setting).
    /// Throws `.invalidRequest` when a cache that large cannot fit in memory.
    public func makeContext(capacity: Int? = nil, threads: Int? = nil) throws(ShimmyError) -> LlamaContext {
        try LlamaContext(config: config, weights: weights, capacity: capacity ?? contextLength,
                         kernels: KernelContext(pool: .shared, threads: threads ?? options.threads))
    }

    func acquireContext() throws(ShimmyError) -> LlamaContext {
        let reused = spareContexts.withLock { $0.popLast() }
        if let reused {
            reused.truncateHeld(to: 0)
            return reused
        }
        return try makeContext()
    }

    func releaseContext(_ context: LlamaContext) {
        spareContexts.withLock { if $0.count < 2 { $0.append(context) } }
    }

    /// Every token's bytes, control tokens' empty (`Tokenizer.pieceBytes(_:special: false)`), made on first use
    /// (JSON mode tries every token's bytes).
    var tokenPieces: [[UInt8]] {
        pieceTable.withLock { table in
            if let table { return table }
            let made = (0..<config.vocabularySize).map { tokenizer.pieceBytes(TokenID($0), special: false) }
            table = made
            return made
        }
    }

    /// Token counts of the contexts kept for the next generations (tests: what a generation that ended left).
    var spareContextLengths: [Int] { spareContexts.withLock { $0.map(\.tokens.count) } }

    /// The token ids a prompt is fed as: raw text with special tokens parsed (BOS only if the model asks for it),
    /// or messages rendered with the chat template.
    public func promptTokens(_ prompt: Prompt) -> [TokenID] {
        switch prompt {
        case .text(let text):
            return tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        case .messages(let messages):
            return tokenizer.encode(chatTemplate.render(messages, addAssistant: true), addSpecial: true,
                                    parseSpecial: true)
        }
    }

    /// Throws `.invalidRequest` for a chat with no messages (`run` refuses it too).
    public func countTokens(_ prompt: Prompt) throws -> Int {
        try Self.checkMessages(prompt)
        return promptTokens(prompt).count
    }

    /// A chat must have a message: with none the template would render only its default system prompt.
    static func checkMessages(_ prompt: Prompt) throws(ShimmyError) {
        if case .messages(let messages) = prompt, messages.isEmpty {
            throw ShimmyError(.invalidRequest, "the prompt has no messages")
        }
    }

    public func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error> {
        generate(request, stop: StopFlag())
    }

    /// Setting `stop` (or dropping the stream) stops the generation at its next token or prompt batch; the stream
    /// then ends with `.done` (finish reason `cancelled`) after the context has been given back.
    public func generate(_ request: GenerationRequest, stop: StopFlag) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        // called with the stream's lock held: it must not wait for the engine, which yields under that lock
        continuation.onTermination = { _ in stop.set() }
        // Generation is blocking compute: it runs on its own thread, not on the cooperative pool.
        let thread = Thread { [self] in
            do {
                let context = try acquireContext()
                var done: GenerationStats?
                do {
                    defer { releaseContext(context) }
                    // `.done` waits until the context is back, so the stream's end means the work has ended
                    _ = try run(request, in: context, stop: stop) { event in
                        if case .done(let stats) = event { done = stats } else { continuation.yield(event) }
                    }
                }
                if let done { continuation.yield(.done(done)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
        return stream
    }
}

/// A flag set by another thread to stop a generation at the next token (or batch of a long prompt).
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let handlers = Mutex<[@Sendable () -> Void]?>([])
    public init() {}

    /// Sets the flag and runs the `onSet` handlers, once.
    public func set() {
        flag.store(true, ordering: .relaxed)
        let pending = handlers.withLock { handlers in
            defer { handlers = nil }
            return handlers ?? []
        }
        for handler in pending { handler() }
    }

    public var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Runs `handler` when the flag is set (at once if it already is), on the thread that sets it: it must be
    /// quick and must not wait, nor yield to or finish a stream (a stream's termination handler may set the flag
    /// while holding that stream's lock).
    public func onSet(_ handler: @escaping @Sendable () -> Void) {
        let registered = handlers.withLock { handlers -> Bool in
            guard handlers != nil else { return false }
            handlers?.append(handler)
            return true
        }
        if !registered { handler() }
    }
}
