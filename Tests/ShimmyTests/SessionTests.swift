import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

/// `LlamaModel` as an `InferenceSession` on the default model: streaming, determinism, limits, cancellation.
@Suite(.serialized)
struct SessionTests {
    static func collect(_ model: LlamaModel, _ request: GenerationRequest) async throws
        -> (text: String, tokens: [TokenID], stats: GenerationStats?)
    {
        var text = "", tokens: [TokenID] = [], stats: GenerationStats?
        for try await event in model.generate(request) {
            switch event {
            case .chunk(let t, let ids):
                text += t
                tokens += ids
            case .done(let s): stats = s
            }
        }
        return (text, tokens, stats)
    }

    static func model(threads: Int? = nil) throws -> LlamaModel {
        try LlamaModel.load(path: TestPaths.defaultModel, options: ModelOptions(contextLength: 512, threads: threads))
    }

    @Test func sameSeedSameOutputAcrossThreadCounts() async throws {
        let request = GenerationRequest(prompt: .text("Once upon a time"),
                                        sampling: SamplingParameters(temperature: 0.9, seed: 1234), maxTokens: 24)
        let one = try await Self.collect(try Self.model(threads: 1), request)
        let again = try await Self.collect(try Self.model(threads: 1), request)
        let two = try await Self.collect(try Self.model(threads: 2), request)
        #expect(one.tokens.count == 24)
        #expect(one.tokens == again.tokens, "same seed, same thread count")
        #expect(one.tokens == two.tokens, "1 vs 2 threads: \(one.tokens) vs \(two.tokens)")
        var other = request
        other.sampling.seed = 99
        let different = try await Self.collect(try Self.model(threads: 1), other)
        #expect(different.tokens != one.tokens, "another seed should change a 24-token sample")
    }

    @Test func greedyChatMatchesLlamaCpp() async throws {
        // chat-00 of generation.json on the F16 variant, through the chat template, tokenizer and sampler
        let reference = try referenceJSON("generation.json")
        let prompts = try #require(reference["prompts"] as? [[String: Any]])
        let chat = try #require(prompts.first { $0["id"] as? String == "chat-00" })
        let expected = try #require(((chat["variants"] as? [String: Any])?["F16"] as? [String: Any])?[
            "generated_ids"] as? [Int]).map(TokenID.init)
        let message = try #require(chat["user_message"] as? String)
        let model = try ReferenceVariants.model("F16")
        #expect(try model.countTokens(.messages([.user(message)])) == (chat["prompt_ids"] as? [Int])?.count)
        let result = try await Self.collect(model, GenerationRequest(prompt: .messages([.user(message)]),
                                                                     sampling: .greedy, maxTokens: 48))
        #expect(result.tokens == expected)
        #expect(result.stats?.completionTokens == expected.count)
        #expect(result.text == model.tokenizer.decode(expected.filter { !model.tokenizer.isEndOfGeneration($0) }))
    }

    @Test func stopStringIsNeverReturned() async throws {
        let model = try Self.model()
        let free = try await Self.collect(model, GenerationRequest(prompt: .text("The capital of France is"),
                                                                   sampling: .greedy, maxTokens: 30))
        // stop on a piece of the greedy continuation that spans more than one token
        let words = free.text.split(separator: " ")
        try #require(words.count >= 4, "greedy continuation: \(free.text)")
        let stop = words[2] + " " + words[3]
        let stopped = try await Self.collect(model, GenerationRequest(prompt: .text("The capital of France is"),
                                                                      sampling: .greedy, maxTokens: 30,
                                                                      stop: [String(stop)]))
        #expect(!stopped.text.contains(stop))
        #expect(free.text.hasPrefix(stopped.text))
        #expect(stopped.stats?.finishReason == .stop)
    }

    @Test func limitsAndErrors() async throws {
        let model = try Self.model()
        let short = try await Self.collect(model, GenerationRequest(prompt: .text("Hello"), sampling: .greedy,
                                                                    maxTokens: 3))
        #expect(short.stats?.finishReason == .length)
        #expect(short.stats?.completionTokens == 3)
        let zero = try await Self.collect(model, GenerationRequest(prompt: .text("Hello"), maxTokens: 0))
        #expect(zero.tokens.isEmpty && zero.stats?.finishReason == .length)
        // a prompt longer than the context is invalid_request, with the counts in the details
        let long = String(repeating: "word ", count: 600)
        await #expect {
            _ = try await Self.collect(model, GenerationRequest(prompt: .text(long)))
        } throws: { error in
            (error as? ShimmyError)?.code == .invalidRequest && ((error as? ShimmyError)?.details ?? "").contains("512")
        }
        // a full context ends the generation with `length`
        let context = try model.makeContext(capacity: 16)
        let stats = try model.run(GenerationRequest(prompt: .text("One two three four five"), sampling: .greedy,
                                                    maxTokens: 100), in: context) { _ in }
        #expect(stats.finishReason == .length)
        #expect(stats.promptTokens + stats.completionTokens <= 17)
    }

    @Test func cancellingTheConsumerStopsGeneration() async throws {
        let model = try Self.model()
        let counter = TokenCounter()
        let task = Task {
            for try await event in model.generate(GenerationRequest(prompt: .text("Count:"), maxTokens: 400)) {
                if case .chunk = event { await counter.increment() }
            }
        }
        while await counter.count < 3 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        _ = await task.result
        let atCancel = await counter.count
        try await Task.sleep(for: .milliseconds(300))
        #expect(await counter.count <= atCancel + 1)
        #expect(atCancel < 400)
    }

    @Test func modelDetails() throws {
        let model = try Self.model()
        #expect(model.details.family == "llama")
        #expect(model.details.quantizationLevel == "Q4_1")
        #expect(model.details.parameterCount > 134_000_000 && model.details.parameterCount < 135_000_000)
        #expect(model.contextLength == 512)
        // the model was trained for 8192 tokens; the default cache is capped at 4096
        #expect(model.config.contextLength == 8192)
        #expect(try LlamaModel.load(path: TestPaths.defaultModel).contextLength == 4096)
    }

    @Test func contextsTooLargeForMemoryAreRefused() throws {
        let isInvalid: (any Error) -> Bool = { ($0 as? ShimmyError)?.code == .invalidRequest }
        // 1 << 40 tokens: a KV cache of ~25 PB; Int.max overflows the byte count
        #expect(performing: { try LlamaModel.load(path: TestPaths.defaultModel, options: ModelOptions(contextLength: 1 << 40)) },
                throws: isInvalid)
        let model = try Self.model()
        for capacity in [50_000_000, Int.max, 0] {
            #expect(performing: { try model.makeContext(capacity: capacity) }, throws: isInvalid)
        }
        #expect(try model.makeContext(capacity: 8).capacity == 8)
    }

    @Test func aContextServesOneGenerationAtATime() throws {
        let model = try Self.model()
        let context = try model.makeContext(capacity: 64)
        var refused: [ShimmyError.Code?] = []
        // a second user while the generation holds the context: evaluate, truncate, another generation
        _ = try model.run(GenerationRequest(prompt: .text("Hello"), sampling: .greedy, maxTokens: 2), in: context) { _ in
            do { _ = try context.evaluate([1]) } catch { refused.append((error as? ShimmyError)?.code) }
            do { try context.truncate(to: 0) } catch { refused.append((error as? ShimmyError)?.code) }
            do {
                _ = try model.run(GenerationRequest(prompt: .text("Hi"), maxTokens: 1), in: context) { _ in }
            } catch { refused.append((error as? ShimmyError)?.code) }
        }
        #expect(!refused.isEmpty && refused.count % 3 == 0 && refused.allSatisfy { $0 == .invalidRequest }, "\(refused)")
        // given back when the generation ends
        try context.truncate(to: 0)
        #expect(try context.evaluate([1]).count == model.config.vocabularySize)
    }

    @Test func emptyChatIsInvalid() async throws {
        let model = try Self.model()
        #expect(performing: { try model.countTokens(.messages([])) }, throws: { ($0 as? ShimmyError)?.code == .invalidRequest })
        await #expect(performing: { _ = try await Self.collect(model, GenerationRequest(prompt: .messages([]))) },
                      throws: { ($0 as? ShimmyError)?.code == .invalidRequest })
    }

    @Test("a limit that cuts a character in half drops its bytes: no U+FFFD ends the text")
    func cutCharacter() async throws {
        let model = try Self.model()
        let prompt = Prompt.text("日本語のテキスト: 東京は")
        let full = try await Self.collect(model, GenerationRequest(prompt: prompt, sampling: .greedy, maxTokens: 30))
        // the limits that end inside a character (the case under test must occur)
        var bytes: [UInt8] = []
        var cuts: [Int] = []
        for (index, id) in full.tokens.enumerated() {
            bytes += model.tokenizer.pieceBytes(id)
            if StreamingDecoder.completePrefixLength(bytes) < bytes.count { cuts.append(index + 1) }
        }
        #expect(!cuts.isEmpty, "no limit ends mid-character: \(full.text)")
        for n in cuts {
            let (text, stats) = try await model.generateText(GenerationRequest(prompt: prompt, sampling: .greedy, maxTokens: n))
            #expect(!text.unicodeScalars.contains("\u{FFFD}"), "max \(n): \(text)")
            #expect(full.text.hasPrefix(text) && stats.finishReason == .length, "max \(n): \(text)")
        }
    }

    @Test func generateTextCollectsTheStream() async throws {
        let model = try Self.model()
        let request = GenerationRequest(prompt: .text("Once upon a time"), sampling: .greedy, maxTokens: 12)
        let streamed = try await Self.collect(model, request)
        let (text, stats) = try await model.generateText(request)
        #expect(text == streamed.text && stats.completionTokens == streamed.stats?.completionTokens)
        #expect(stats.finishReason == .length)
        // a cancelled task gets CancellationError rather than a partial text
        let task = Task { try await model.generateText(GenerationRequest(prompt: .text("Count:"), maxTokens: 4000)) }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func errorsDescribeThemselvesToFoundation() {
        let error: any Error = ShimmyError(.modelNotFound, "no model file at /x.gguf", details: "searched ./models")
        #expect(error.localizedDescription == "no model file at /x.gguf: searched ./models")
    }

    @Test func missingAndCorruptFiles() throws {
        #expect { try LlamaModel.load(path: "/nonexistent/model.gguf") } throws: {
            ($0 as? ShimmyError)?.code == .modelNotFound
        }
        let dir = try TestPaths.temporaryDirectory()
        let bad = dir.appendingPathComponent("bad.gguf").path
        FileManager.default.createFile(atPath: bad, contents: Data("GGUF not really".utf8))
        #expect { try LlamaModel.load(path: bad) } throws: {
            ($0 as? ShimmyError)?.code == .serverError
        }
    }

    /// A prompt that does not fit, with a `PromptTruncation`: the first `keep` tokens and the most recent ones,
    /// `room` tokens left; the answer is the one the kept tokens give (greedy first token checked by hand).
    @Test func truncatedPromptKeepsItsStartAndEnd() async throws {
        let model = try LlamaModel.load(path: TestPaths.defaultModel, options: ModelOptions(contextLength: 64))
        let text = (0..<60).map { "word\($0)" }.joined(separator: " ")
        let ids = model.promptTokens(.text(text))
        try #require(ids.count > 64)
        let cut = PromptTruncation(keep: 4, room: 8)
        let kept = cut.apply(ids, capacity: 64)
        #expect(kept == Array(ids.prefix(4) + ids.suffix(52)))
        let request = GenerationRequest(prompt: .text(text), sampling: SamplingParameters(temperature: 0), maxTokens: 8,
                                        truncation: cut)
        let (_, tokens, stats) = try await Self.collect(model, request)
        #expect(stats?.promptTokens == 56 && tokens.count <= 8)
        let logits = try model.makeContext().evaluate(kept)
        let first = logits.indices.max { logits[$0] < logits[$1] }
        #expect(tokens.first.map(Int.init) == first)
        // without one it is still an error; a prompt that fits is left whole
        await #expect(throws: ShimmyError.self) {
            _ = try await Self.collect(model, GenerationRequest(prompt: .text(text), maxTokens: 8))
        }
        #expect(cut.apply(Array(ids.prefix(63)), capacity: 64) == Array(ids.prefix(63)))
        // extreme values do not trap
        #expect(PromptTruncation(keep: Int.max, room: Int.max).apply(ids, capacity: 64).count == 32)
        #expect(PromptTruncation(keep: -1, room: 0).apply(ids, capacity: 64) == Array(ids.prefix(62) + ids.suffix(1)))
        #expect(PromptTruncation(keep: 4, room: 1).apply(ids, capacity: 1).count == 1)
    }
}

actor TokenCounter {
    var count = 0
    func increment() { count += 1 }
}
