import Foundation
import Shimmy

/// Runs one generation in a `Task` and hands its events to the connection thread that writes them.
/// The thread waits with a timeout, so it can notice a peer that went away and cancel the task.
final class GenerationPump: @unchecked Sendable {
    enum Item: Sendable {
        case event(GenerationEvent)
        case failed(Error)
        case finished
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var ended = false
    private var task: Task<Void, Never>?
    /// Stops the generation; its stream ends once the session's work has ended.
    private let stop = StopFlag()

    init(session: any InferenceSession, request: GenerationRequest) {
        let stream = session.generate(request, stop: stop)
        task = Task(executorPreference: ServerExecutor.shared) { [self] in
            do {
                // no early break on cancellation: the stream's own next() sees it and tells the session
                for try await event in stream { push(.event(event)) }
                push(.finished)
            } catch {
                push(.failed(error))
            }
            markEnded()
        }
    }

    private func markEnded() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    private func push(_ item: Item) {
        condition.lock()
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The next item, or nil when none arrived within `timeout` seconds.
    func next(timeout: Double) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while items.isEmpty {
            if !condition.wait(until: deadline) { break }
        }
        return items.isEmpty ? nil : items.removeFirst()
    }

    /// Stops the generation and waits (bounded) until its stream has ended, which is when the session's work has
    /// ended: the caller's generation slot stays taken until then. Past the bound the consuming task is cancelled.
    func cancel(wait: Double = 30) {
        stop.set()
        if !waitEnded(seconds: wait) {
            task?.cancel()
            _ = waitEnded(seconds: 1)
        }
    }

    private func waitEnded(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !ended {
            if !condition.wait(until: deadline) { break }
        }
        return ended
    }
}

/// Why a generation run ended early without an API error.
enum GenerationInterruption: Error {
    /// The client disconnected (or a write to it failed); the generation was cancelled.
    case clientGone
}

/// Drives a pump to completion on the calling thread.
enum GenerationDriver {
    /// Calls `onText` for each non-empty chunk with the log-probabilities of the tokens that came since the last
    /// one (false: the client is gone); returns the final stats and the log-probabilities of the tokens after the
    /// last text that still gave some of it. A stop string's tokens, which gave none, are left out, as llama.cpp's
    /// server leaves them out. `disconnected` is polled while waiting; a true answer cancels the generation.
    /// Throws `GenerationInterruption.clientGone`, or the session's error.
    static func run(session: any InferenceSession, request: GenerationRequest, disconnected: () -> Bool,
                    onText: (String, [TokenLogprob]) -> Bool) throws -> (stats: GenerationStats, logprobs: [TokenLogprob]) {
        let pump = GenerationPump(session: session, request: request)
        var stats: GenerationStats?
        var tokens = 0
        // Entries go out by bytes: with the text, the entries of the tokens that begin within the text sent so far
        // (a token that only begins a stop string gave none of it, and never goes out).
        var textBytes = 0
        var entryBytes = 0
        var waiting: [TokenLogprob] = []
        func due() -> [TokenLogprob] {
            var out: [TokenLogprob] = []
            while let entry = waiting.first, entryBytes < textBytes {
                out.append(entry)
                entryBytes += entry.bytes.count
                waiting.removeFirst()
            }
            return out
        }
        while true {
            let next = pump.next(timeout: 0.05)
            // checked on every token too, so a closed peer cancels within one token
            if disconnected() {
                pump.cancel()
                throw GenerationInterruption.clientGone
            }
            guard let item = next else { continue }
            switch item {
            case .event(.chunk(let text, let ids)):
                tokens += ids.count
                guard !text.isEmpty else { continue }
                textBytes += text.utf8.count
                waiting += request.logprobs?.take(upTo: tokens) ?? []
                if !onText(text, due()) {
                    pump.cancel()
                    throw GenerationInterruption.clientGone
                }
            case .event(.done(let final)):
                stats = final
            case .failed(let error):
                throw error
            case .finished:
                guard let stats else {
                    throw ShimmyError(.generationFailed, "Generation ended without a result",
                                      details: "the session's stream finished before its done event")
                }
                waiting += request.logprobs?.take() ?? []
                return (stats, due())
            }
        }
    }
}
