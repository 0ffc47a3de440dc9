import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

/// `GenerationRequest.logprobs` against llama.cpp's server (`n_probs` 5, softmax of the raw logits) in
/// `../shared/reference/generation.json`.
@Suite(.serialized)
struct LogprobTests {
    /// Greedy generations of every reference prompt with five alternatives per token, wherever the generated
    /// tokens still follow llama.cpp's:
    /// - The first token's entry is llama.cpp's: its top-5 ids, and log-probabilities within 1e-6, the
    ///   reference's 6 decimals. The prompt's logits are llama.cpp's bit for bit (`EngineReferenceTests.finalLogits`)
    ///   and the softmax sums in llama.cpp's order (summed by token id instead, it was 7e-5 off).
    /// - Later tokens' log-probabilities are within the logit bound of `finalLogits` (0.5 for quantized types,
    ///   0.05 for F32), and the top-5 lists share at least 4 ids. One-token steps are not bit for bit llama.cpp's
    ///   (see the reference's notes), so near-ties may swap.
    @Test(arguments: ["Q4_1", "F32"])
    func greedyLogprobsMatchLlamaCpp(variant: String) async throws {
        let reference = try referenceJSON("generation.json")
        let prompts = try #require(reference["prompts"] as? [[String: Any]])
        let model = try ReferenceVariants.model(variant)
        let tolerance = variant == "F32" ? 0.05 : 0.5
        var compared = 0
        var worstFirst: (Double, String) = (0, "")
        var worstLater: (Double, String) = (0, "")
        for prompt in prompts {
            let id = prompt["id"] as? String ?? "?"
            let text = try #require(prompt["prompt"] as? String)
            let expected = try #require(((prompt["variants"] as? [String: Any])?[variant] as? [String: Any])?["steps"]
                as? [[Any]])
            let recorder = LogprobRecorder(top: 5)
            let request = GenerationRequest(prompt: .text(text), sampling: .greedy, maxTokens: 16, logprobs: recorder)
            var entries: [TokenLogprob] = []
            var chunkTokens: [TokenID] = []
            var stats: GenerationStats?
            for try await event in model.generate(request) {
                switch event {
                case .chunk(_, let tokens):
                    chunkTokens += tokens
                    // each token's entry is recorded before its chunk is sent
                    let taken = recorder.take(upTo: chunkTokens.count)
                    let eog = tokens.last.map(model.tokenizer.isEndOfGeneration) ?? false
                    #expect(taken.map(\.token) == tokens.filter { !model.tokenizer.isEndOfGeneration($0) }, "\(id)")
                    #expect(taken.count == tokens.count - (eog ? 1 : 0))
                    entries += taken
                case .done(let s): stats = s
                }
            }
            #expect(recorder.take().isEmpty && recorder.entries == entries)
            let done = try #require(stats)
            // every generated token has an entry, but an end-of-generation token
            let ended = chunkTokens.last.map(model.tokenizer.isEndOfGeneration) ?? false
            #expect(entries.count == done.completionTokens - (ended ? 1 : 0), "\(id)")
            #expect(entries.map(\.token) == Array(chunkTokens.prefix(entries.count)), "\(id)")
            for (step, entry) in entries.enumerated() where step < expected.count {
                let want = expected[step]
                guard let wantID = want[0] as? Int, let wantLogprob = want[1] as? Double,
                      let wantTop = want[2] as? [[Double]] else { Issue.record("\(id): malformed step"); break }
                // past the first token that differs the contexts differ too
                guard entry.token == TokenID(wantID) else { break }
                compared += 1
                #expect(entry.bytes == model.tokenizer.pieceBytes(entry.token))
                #expect(entry.top.allSatisfy { $0.top.isEmpty && $0.logprob <= 0 })
                let wantByID = Dictionary(wantTop.map { (TokenID($0[0]), $0[1]) }, uniquingKeysWith: { a, _ in a })
                let shared = entry.top.filter { wantByID[$0.token] != nil }
                let pairs = [(Double(entry.logprob), wantLogprob)]
                    + shared.map { (Double($0.logprob), wantByID[$0.token] ?? 0) }
                let difference = pairs.map { abs($0 - $1) }.max() ?? 0
                let place = "\(id) step \(step)"
                if step == 0 {
                    #expect(entry.top.map(\.token) == wantTop.map { TokenID($0[0]) }, "\(place)")
                    if difference > worstFirst.0 { worstFirst = (difference, place) }
                } else {
                    #expect(shared.count >= 4, "\(place): \(entry.top.map(\.token)) vs \(wantTop.map { Int($0[0]) })")
                    if difference > worstLater.0 { worstLater = (difference, place) }
                }
            }
        }
        print("logprobs \(variant): \(compared) steps compared; largest difference at the first token \(worstFirst.0) (\(worstFirst.1)), later \(worstLater.0) (\(worstLater.1))")
        #expect(compared >= prompts.count * 8, "too few steps followed llama.cpp's tokens: \(compared)")
        #expect(worstFirst.0 <= 1e-6, "first token: logprob difference \(worstFirst.0) at \(worstFirst.1)")
        #expect(worstLater.0 <= tolerance, "later tokens: logprob difference \(worstLater.0) at \(worstLater.1)")
    }

    /// The distribution itself: the log-probabilities of the whole vocabulary sum to 1, `top` is the best first
    /// with ties to the lower id, and a token far below the largest logit keeps a finite log-probability.
    @Test func distribution() {
        var logits = [Float](repeating: 0, count: 1000)
        for i in logits.indices { logits[i] = Float((i * 37) % 101) / 10 }
        logits[500] = -200  // exp underflows to 0 in float
        logits[7] = 10
        logits[3] = 10
        let bytes: (TokenID) -> [UInt8] = { Array("t\($0)".utf8) }
        let entry = logits.withUnsafeBufferPointer {
            TokenLogprob.make($0.baseAddress!, count: $0.count, token: 500, top: 4, bytes: bytes)
        }
        #expect(entry.token == 500 && entry.text == "t500")
        #expect(entry.logprob.isFinite && entry.logprob < -200)
        #expect(entry.top.map(\.token).prefix(2) == [3, 7])
        #expect(entry.top.count == 4 && zip(entry.top, entry.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
        var total = 0.0
        for id in 0..<logits.count {
            let e = logits.withUnsafeBufferPointer {
                TokenLogprob.make($0.baseAddress!, count: $0.count, token: TokenID(id), top: 0, bytes: bytes)
            }
            #expect(e.top.isEmpty)
            total += exp(Double(e.logprob))
        }
        #expect(abs(total - 1) < 1e-5, "\(total)")
    }
}
