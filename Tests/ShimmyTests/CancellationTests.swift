import Foundation
@testable import Shimmy
import ShimmyTestSupport
import Synchronization
import Testing

@Suite("stopping a generation", .serialized)
struct CancellationTests {
    @Test("a stop during a long prompt takes effect at the next batch; the stream ends once the context is back")
    func stopDuringPrompt() async throws {
        let model = try LlamaModel.load(path: TestPaths.defaultModel, options: ModelOptions(contextLength: 4096))
        let prompt = String(repeating: "apple ", count: 3500)
        let promptLength = try model.countTokens(.text(prompt))
        #expect(promptLength > 3 * 512)
        let stop = StopFlag()
        let task = Task {
            var final: GenerationStats?
            for try await event in model.generate(GenerationRequest(prompt: .text(prompt), maxTokens: 10), stop: stop) {
                if case .done(let stats) = event { final = stats }
            }
            return final
        }
        try await Task.sleep(for: .milliseconds(300))
        stop.set()
        let stats = try await task.value
        #expect(stats?.finishReason == .cancelled && stats?.completionTokens == 0)
        // the context came back before the stream ended, holding whole batches only: the prompt was cut
        let lengths = model.spareContextLengths
        #expect(lengths.count == 1)
        #expect(lengths.allSatisfy { $0 < promptLength && $0 % 512 == 0 }, "\(lengths) of \(promptLength)")
    }

    @Test("a generation stopped before it starts evaluates nothing")
    func stoppedAtOnce() throws {
        let model = try LlamaModel.load(path: TestPaths.defaultModel, options: ModelOptions(contextLength: 512))
        let context = try model.makeContext()
        let stop = StopFlag()
        stop.set()
        let stats = try model.run(GenerationRequest(prompt: .text("Hello there"), maxTokens: 5), in: context,
                                  stop: stop) { _ in }
        #expect(stats.finishReason == .cancelled && stats.completionTokens == 0)
        #expect(context.tokens.isEmpty)
    }

    @Test("StopFlag runs its handlers once, at once when already set")
    func stopFlagHandlers() {
        let stop = StopFlag()
        let calls = Mutex(0)
        stop.onSet { calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 0)
        stop.set()
        stop.set()
        #expect(calls.withLock { $0 } == 1)
        stop.onSet { calls.withLock { $0 += 10 } }
        #expect(calls.withLock { $0 } == 11 && stop.isSet)
    }
}
