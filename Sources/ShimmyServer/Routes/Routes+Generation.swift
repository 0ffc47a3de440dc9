import Foundation
import Shimmy

/// A request resolved against its model: ready to run.
struct PreparedGeneration {
    let session: any InferenceSession
    let request: GenerationRequest
    let promptTokens: Int
}

/// The text and counts of a finished non-streaming generation.
struct CompletedGeneration {
    let text: String
    let stats: GenerationStats
    /// Each generated token's log-probability when the request asked for them (`GenerationRequest.logprobs`).
    let logprobs: [TokenLogprob]
}

extension Routes {
    /// Loads the model and checks that the prompt fits its context.
    func prepare(_ decoded: DecodedGeneration) throws -> PreparedGeneration {
        let session = try session(named: decoded.model)
        var decoded = decoded
        var promptTokens: Int
        var truncation: PromptTruncation?
        do {
            promptTokens = try session.countTokens(decoded.prompt)
            if decoded.dropsOldestMessages, case .messages(let messages) = decoded.prompt,
               let kept = try ChatTruncation.fitted(messages, tokens: promptTokens, contextLength: session.contextLength,
                                                    maxTokens: decoded.maxTokens, count: { try session.countTokens(.messages($0)) })
            {
                context.logger.debug("conversation longer than the context: oldest messages left out",
                                     metadata: ["model": .string(session.modelName),
                                                "dropped": .stringConvertible(messages.count - kept.messages.count)])
                decoded.prompt = .messages(kept.messages)
                promptTokens = kept.tokens
            }
            if let keep = decoded.keptPromptStart, promptTokens >= session.contextLength {
                let cut = PromptTruncation(keep: keep, room: ChatTruncation.reserve(maxTokens: decoded.maxTokens,
                                                                                    contextLength: session.contextLength))
                context.logger.debug("prompt longer than the context: its middle left out",
                                     metadata: ["model": .string(session.modelName), "prompt_tokens": .stringConvertible(promptTokens),
                                                "keep": .stringConvertible(keep)])
                promptTokens = cut.keptCount(promptTokens, capacity: session.contextLength)
                truncation = cut
            }
        } catch {
            throw APIError(error)
        }
        if let id = decoded.sampling.logitBias.keys.filter({ Int($0) >= session.details.vocabularySize }).min() {
            throw APIError.invalidRequest("Field 'logit_bias' names a token the model does not have",
                                          details: "token \(id) is beyond the vocabulary of \(session.details.vocabularySize) tokens",
                                          param: "logit_bias")
        }
        // Checked here, before any stream starts, so an empty prompt is a 400 rather than an error event.
        guard promptTokens > 0 else {
            throw APIError.invalidRequest("The prompt is empty", details: "the prompt has no tokens")
        }
        guard promptTokens < session.contextLength else {
            // a prompt as long as the context leaves no room for the first generated token
            throw APIError.contextExceeded("The prompt", contextLength: session.contextLength,
                                           details: "the prompt has \(promptTokens) tokens; the context holds \(session.contextLength), one of them for the first generated token")
        }
        var request = decoded.generationRequest(contextLength: session.contextLength, promptTokens: promptTokens)
        request.truncation = truncation
        return PreparedGeneration(session: session, request: request, promptTokens: promptTokens)
    }

    /// The session of a model, loaded if need be (nil: the default model); model_not_found before anything is sent.
    func session(named name: String?) throws -> any InferenceSession {
        let catalog = context.catalog
        return try blockingAwait { try await catalog.session(named: name) }
    }

    /// The name of the model a request runs on (`default` and other aliases resolved); model_not_found before
    /// anything is sent.
    func servedModelName(_ name: String?) throws -> String { try session(named: name).modelName }

    /// Runs `body` holding a generation slot; throws the 503 error when the queue is full, and
    /// `GenerationInterruption.clientGone` when the client goes away while the request waits in the queue.
    func withSlot<T>(_ body: () throws -> T) throws -> T {
        let limiter = context.limiter
        let connection = self.connection
        switch limiter.acquire(abandoned: { connection.peerClosed }) {
        case .admitted:
            break
        case .queueFull:
            let load = limiter.load
            throw APIError.busy(retryAfter: context.configuration.retryAfterSeconds, parallel: load.running, queued: load.waiting)
        case .abandoned:
            throw GenerationInterruption.clientGone
        }
        defer { limiter.release() }
        return try body()
    }

    /// Runs a generation to its end and returns the whole text.
    func collect(_ prepared: PreparedGeneration) throws -> CompletedGeneration {
        var text = ""
        var logprobs: [TokenLogprob] = []
        let connection = self.connection
        let (stats, trailing) = try GenerationDriver.run(
            session: prepared.session, request: prepared.request, disconnected: { connection.peerClosed },
            onText: { text += $0; logprobs += $1; return true })
        logGeneration(prepared, stats)
        return CompletedGeneration(text: text, stats: stats, logprobs: logprobs + trailing)
    }

    /// A debug line per finished generation (visible with `shimmy serve -v`).
    func logGeneration(_ prepared: PreparedGeneration, _ stats: GenerationStats) {
        let seconds = stats.timings.generationMilliseconds / 1000
        context.logger.debug("generation", metadata: [
            "model": .string(prepared.session.modelName), "prompt_tokens": .stringConvertible(stats.promptTokens),
            "completion_tokens": .stringConvertible(stats.completionTokens),
            "finish_reason": .string(stats.finishReason.rawValue),
            "tokens_per_second": .string(seconds > 0 ? String(format: "%.1f", Double(stats.completionTokens) / seconds) : "-"),
        ])
    }

    /// Runs a non-streaming generation: the response, or nothing when the client went away.
    func respondWhole(_ decoded: DecodedGeneration, _ build: (CompletedGeneration) -> JSONValue) throws -> RouteOutcome {
        let prepared = try prepare(decoded)
        do {
            let completed = try withSlot { try collect(prepared) }
            return .response(.json(build(completed)))
        } catch GenerationInterruption.clientGone {
            return .streamed(status: 499, reusable: false)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.generation(error)
        }
    }

    /// Streams a generation: `head` is the content type, `event` frames each piece of text with the
    /// log-probabilities of its tokens (when asked for), `finish` the final events with those of tokens that gave
    /// no text, `failure` the error event sent when the generation fails after the head went out.
    func respondStreaming(_ decoded: DecodedGeneration, contentType: String, event: (String, [TokenLogprob]) -> [UInt8],
                          finish: (GenerationStats, [TokenLogprob]) -> [UInt8],
                          failure: (APIError) -> [UInt8]) throws -> RouteOutcome {
        let prepared = try prepare(decoded)
        let connection = self.connection
        enum End { case finished(GenerationStats, [TokenLogprob]), failed(APIError), clientGone }
        // The slot is given back before the last bytes go out, so a client that sends its next request as soon as
        // it reads the end of this one never finds the slot still taken.
        let end: End
        do {
            end = try withSlot {
                guard connection.beginStream(contentType: contentType) else { return .clientGone }
                do {
                    let (stats, trailing) = try GenerationDriver.run(
                        session: prepared.session, request: prepared.request, disconnected: { connection.peerClosed },
                        onText: { connection.writeChunk(event($0, $1)) })
                    return .finished(stats, trailing)
                } catch GenerationInterruption.clientGone {
                    return .clientGone
                } catch {
                    return .failed(APIError.generation(error))
                }
            }
        } catch GenerationInterruption.clientGone {
            end = .clientGone
        }
        switch end {
        case .finished(let stats, let trailing):
            logGeneration(prepared, stats)
            let ok = connection.writeChunk(finish(stats, trailing)) && connection.endStream()
            return .streamed(status: 200, reusable: ok)
        case .clientGone:
            return .streamed(status: 499, reusable: false)
        case .failed(let apiError):
            context.logger.warning("generation failed after streaming began",
                                   metadata: ["code": .string(apiError.code), "details": .string(apiError.details ?? "")])
            let ok = connection.writeChunk(failure(apiError)) && connection.endStream()
            return .streamed(status: 200, reusable: ok)
        }
    }
}

/// Server-Sent Events framing.
enum SSE {
    /// `data: <json>\n\n`
    static func event(_ value: JSONValue) -> [UInt8] { Array("data: \(value.serialized)\n\n".utf8) }
    /// `data: [DONE]\n\n`
    static let done = Array("data: [DONE]\n\n".utf8)
}

extension FinishReason {
    /// The API spelling: `stop` or `length` (a cancelled generation reports `stop`).
    var apiValue: String { self == .length ? "length" : "stop" }
}

extension GenerationStats {
    /// `{"prompt_tokens", "completion_tokens", "total_tokens"}`.
    var usageJSON: JSONValue {
        ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
         "total_tokens": .int(promptTokens + completionTokens)]
    }
}
