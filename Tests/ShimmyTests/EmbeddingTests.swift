import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// `LlamaModel.embed`: the last token's final hidden state, tied to llama.cpp's logits through the output head.
@Suite(.serialized)
struct EmbeddingTests {
    /// llama.cpp's final-position logits are the output head applied to the hidden state an embedding returns:
    /// on the F32 variant (whose head multiplies in f32, no activation quantization) the raw embedding times
    /// `token_embd` (SmolLM2 ties the head to it) gives every listed top-20 logit of every reference prompt.
    @Test func rawEmbeddingThroughTheOutputHeadGivesLlamaCppsLogits() async throws {
        let model = try ReferenceVariants.model("F32")
        let head = try #require(model.file.tensor(named: "token_embd.weight"))
        try #require(head.type == .f32)
        let rows = model.file.tensorData(head).bindMemory(to: Float.self)
        let dim = model.config.embeddingLength
        let prompts = try #require(try referenceJSON("logits.json")["prompts"] as? [[String: Any]])
        var worst: Double = 0
        for prompt in prompts {
            let ids = try #require(prompt["prompt_ids"] as? [Int]).map(TokenID.init)
            let expected = try #require(((prompt["variants"] as? [String: Any])?["F32"] as? [String: Any])?["top20"]
                as? [[Double]])
            let embedding = try await model.embed(EmbeddingRequest(input: .tokens(ids), normalize: false))
            #expect(embedding.vector.count == dim && embedding.tokens == ids.count && !embedding.truncated)
            for pair in expected {
                let row = Int(pair[0]) * dim
                let logit = (0..<dim).reduce(0.0) { $0 + Double(rows[row + $1]) * Double(embedding.vector[$1]) }
                worst = max(worst, abs(logit - pair[1]))
            }
        }
        print("embedding x output head vs llama.cpp's F32 logits: largest difference \(worst)")
        #expect(worst < 1e-4)
    }

    /// The hidden-state output over several 512-token batches and for more than one row: each wanted row times
    /// the head gives the logits `evaluate` returns for the same rows; the last row is the embedding (which runs
    /// one row through the last layer, so its sums may differ in order: within 1e-4).
    @Test func hiddenStatesAcrossBatchesAndRows() async throws {
        let model = try ReferenceVariants.model("F32")
        let head = try #require(model.file.tensor(named: "token_embd.weight"))
        let weights = model.file.tensorData(head).bindMemory(to: Float.self)
        let dim = model.config.embeddingLength, vocabulary = model.config.vocabularySize
        let ids = Array(model.promptTokens(.text(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 120))).prefix(1100))
        try #require(ids.count == 1100)
        let rows = 1097..<1100
        let hidden = try model.makeContext().evaluate(ids, logits: .range(rows), output: .hiddenStates)
        let logits = try model.makeContext().evaluate(ids, logits: .range(rows))
        try #require(hidden.count == rows.count * dim && logits.count == rows.count * vocabulary)
        var worst: Double = 0
        for row in 0..<rows.count {
            for token in 0..<vocabulary {
                let dot = (0..<dim).reduce(0.0) { $0 + Double(weights[token * dim + $1]) * Double(hidden[row * dim + $1]) }
                worst = max(worst, abs(dot - Double(logits[row * vocabulary + token])))
            }
        }
        print("hidden states x head vs logits, 3 rows after 1097 tokens: largest difference \(worst)")
        #expect(worst < 1e-3)
        let embedding = try await model.embed(EmbeddingRequest(input: .tokens(ids), normalize: false)).vector
        let last = hidden[(rows.count - 1) * dim..<rows.count * dim]
        let gap = zip(embedding, last).map { abs(Double($0) - Double($1)) }.max() ?? 1
        #expect(gap < 1e-4, "the embedding is not the last row's hidden state: \(gap)")
    }

    @Test func normalizedTextAndTokensAgree() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        let text = "The sky is blue because of Rayleigh scattering."
        let raw = try await model.embed(EmbeddingRequest(input: .text(text), normalize: false))
        let unit = try await model.embed(EmbeddingRequest(input: .text(text)))
        let ids = try await model.embed(EmbeddingRequest(input: .tokens(model.promptTokens(.text(text)))))
        #expect(raw.tokens == model.promptTokens(.text(text)).count)
        let norm = unit.vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)
        let rawNorm = raw.vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(rawNorm > 2, "the raw hidden state is not unit length (\(rawNorm))")
        for (a, b) in zip(raw.vector, unit.vector) { #expect(abs(Double(a) / rawNorm - Double(b)) < 1e-6) }
        #expect(ids == unit)
        // another input in between (the context is reused) changes nothing; a different text differs
        let other = try await model.embed(EmbeddingRequest(input: .text("Bonjour")))
        #expect(try await model.embed(EmbeddingRequest(input: .text(text))) == unit)
        #expect(other.vector != unit.vector)
    }

    @Test func dimensionsKeepTheFirstValuesRenormalized() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        let raw = try await model.embed(EmbeddingRequest(input: .text("hello world"), normalize: false))
        let short = try await model.embed(EmbeddingRequest(input: .text("hello world"), dimensions: 64))
        #expect(short.vector.count == 64)
        let expected = Array(raw.vector.prefix(64))
        let norm = expected.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        for (a, b) in zip(expected, short.vector) { #expect(abs(Double(a) / norm - Double(b)) < 1e-6) }
        for bad in [0, -1, model.config.embeddingLength + 1] {
            await #expect(throws: ShimmyError.self) {
                try await model.embed(EmbeddingRequest(input: .text("hello"), dimensions: bad))
            }
        }
        let full = try await model.embed(EmbeddingRequest(input: .text("hello world"), normalize: false,
                                                          dimensions: model.config.embeddingLength))
        #expect(full == raw)
    }

    @Test func inputLongerThanTheContextFailsOrLosesItsEnd() async throws {
        let model = try ReferenceVariants.model("Q4_1", contextLength: 32)
        let ids = model.promptTokens(.text(String(repeating: "one two three four ", count: 20)))
        try #require(ids.count > 32)
        await #expect(throws: ShimmyError.self) { try await model.embed(EmbeddingRequest(input: .tokens(ids))) }
        let cut = try await model.embed(EmbeddingRequest(input: .tokens(ids), truncate: true))
        #expect(cut.tokens == 32 && cut.truncated)
        #expect(cut == Embedding(vector: try await model.embed(EmbeddingRequest(input: .tokens(Array(ids.prefix(32))))).vector,
                                 tokens: 32, truncated: true))
        // exactly the context fits: an embedding needs no room for a generated token
        #expect(try await model.embed(EmbeddingRequest(input: .tokens(Array(ids.prefix(32))))).truncated == false)
    }

    @Test func cancellingTheTaskStopsTheWork() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        let ids = model.promptTokens(.text(String(repeating: "one two three four ", count: 100)))
        let task = Task { try await model.embed(EmbeddingRequest(input: .tokens(ids))) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // the context it used is whole again
        #expect(try await model.embed(EmbeddingRequest(input: .text("ok"))).tokens > 0)
    }

    /// Cancelled while it runs (a fifth of the time a whole run takes), it stops at a layer, long before the end.
    @Test func cancellingMidwayStopsSoon() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        let ids = Array(model.promptTokens(.text(String(repeating: "one two three four ", count: 300))).prefix(1100))
        let request = EmbeddingRequest(input: .tokens(ids))
        let clock = ContinuousClock()
        let whole = try await clock.measure { _ = try await model.embed(request) }
        let start = clock.now
        let task = Task { try await model.embed(request) }
        try await Task.sleep(for: whole / 5)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let cancelled = clock.now - start
        print("embedding of \(ids.count) tokens: \(whole) whole, \(cancelled) cancelled after \(whole / 5)")
        #expect(cancelled < whole * 0.7)
    }

    @Test func badInputsAreClearErrors() async throws {
        let model = try ReferenceVariants.model("Q4_1")
        for input in [EmbeddingInput.text(""), .tokens([]), .tokens([1, -3]), .tokens([TokenID(model.config.vocabularySize)])] {
            do {
                _ = try await model.embed(EmbeddingRequest(input: input))
                Issue.record("\(input) was embedded")
            } catch let error as ShimmyError {
                #expect(error.code == .invalidRequest, "\(input): \(error)")
            }
        }
        // the model still works after them
        #expect(try await model.embed(EmbeddingRequest(input: .text("ok"))).vector.count == model.config.embeddingLength)
    }
}
