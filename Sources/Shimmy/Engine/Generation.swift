import Foundation

extension LlamaModel {
    /// Runs one generation in `context`, calling `emit` with each event (chunks, then `.done`).
    ///
    /// The context may hold an earlier conversation: the longest common prefix of its tokens and the new
    /// prompt is kept, so a chat's history is not evaluated twice. Returns the final stats.
    @discardableResult
    public func run(_ request: GenerationRequest, in context: LlamaContext, stop: StopFlag = StopFlag(),
                    emit: (GenerationEvent) -> Void) throws -> GenerationStats {
        try Self.checkMessages(request.prompt)
        try context.claim()
        defer { context.release() }
        var prompt = promptTokens(request.prompt)
        if let truncation = request.truncation {
            prompt = truncation.apply(prompt, capacity: context.capacity, leading: tokenizer.addBOS ? 1 : 0)
        }
        guard !prompt.isEmpty else {
            throw ShimmyError(.invalidRequest, "the prompt is empty")
        }
        guard prompt.count < context.capacity else {
            throw ShimmyError(.invalidRequest, "the prompt is too long for the context",
                              details: "\(prompt.count) prompt token\(prompt.count == 1 ? "" : "s"), context size \(context.capacity), one of them for the first generated token")
        }
        guard request.maxTokens >= 0 else {
            throw ShimmyError(.invalidRequest, "max_tokens must not be negative")
        }

        // keep the cached prefix, evaluate the rest of the prompt
        let promptStart = DispatchTime.now()
        var shared = zip(context.tokens, prompt).prefix { $0 == $1 }.count
        if shared == prompt.count { shared -= 1 }  // the last prompt token must be evaluated for its logits
        context.truncateHeld(to: shared)
        // a long prompt takes many batches: a consumer that leaves stops it at the next one
        var logits = try context.evaluateHeld(Array(prompt[shared...]), logits: .last, stop: stop)
        let promptMilliseconds = Self.milliseconds(since: promptStart)

        var sampler = Sampler(parameters: request.sampling, vocabularySize: config.vocabularySize)
        for token in prompt { sampler.accept(token) }
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var stops = StopMatcher(stops: request.stop)
        var json = try request.format.map { format throws(ShimmyError) in try JSONConstraint(format, pieces: tokenPieces) }

        /// Ends the text where it is: what the stop matcher holds back goes out (half a character is dropped).
        func flushHeld() {
            decoder.dropUnfinished()
            let rest = stops.finish()
            if !rest.isEmpty { emit(.chunk(text: rest, tokens: [])) }
        }

        let generationStart = DispatchTime.now()
        var generated = 0
        var finish = stop.isSet ? FinishReason.cancelled : .length
        while generated < request.maxTokens {
            if stop.isSet {
                finish = .cancelled
                break
            }
            var next = logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!) }
            if json != nil, json?.accept(next) != true {
                // the sampler's pick breaks the format: pick again among the tokens that keep it
                guard let masked = json?.masked(logits) else {
                    // no way on (the recognizers' checks make this unreachable): cut short, as a limit cuts
                    break
                }
                next = masked.withUnsafeBufferPointer { sampler.sample($0.baseAddress!) }
                if json?.accept(next) != true {
                    // a draw never lands on -inf; should it, the likeliest allowed token
                    next = masked.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, count: $0.count) }
                    guard json?.accept(next) == true else { break }
                }
            }
            sampler.accept(next)
            generated += 1
            if let recorder = request.logprobs, !tokenizer.isEndOfGeneration(next) {
                recorder.record(logits.withUnsafeBufferPointer {
                    TokenLogprob.make($0.baseAddress!, count: config.vocabularySize, token: next, top: recorder.top,
                                      bytes: { tokenizer.pieceBytes($0) })
                })
            }
            if tokenizer.isEndOfGeneration(next) {
                // flush what the stop matcher holds back (half a character the decoder holds is dropped), then the
                // end token with no text
                decoder.dropUnfinished()
                emit(.chunk(text: stops.finish(), tokens: [next]))
                finish = .stop
                break
            }
            let (text, stopped) = stops.feed(decoder.append(next))
            emit(.chunk(text: text, tokens: [next]))
            if stopped {
                finish = .stop
                break
            }
            if json?.isComplete == true {
                // the object is whole: nothing may follow it
                flushHeld()
                finish = .stop
                break
            }
            guard context.tokens.count < context.capacity, generated < request.maxTokens else { break }
            logits = try context.evaluateHeld([next], logits: .last)
        }
        if finish != .stop && finish != .cancelled {
            // cut by a limit: half a character at the end is dropped, so no U+FFFD ends the text
            flushHeld()
        }
        let stats = GenerationStats(
            promptTokens: prompt.count, completionTokens: generated, finishReason: finish,
            timings: GenerationTimings(promptMilliseconds: promptMilliseconds,
                                       generationMilliseconds: Self.milliseconds(since: generationStart)))
        emit(.done(stats))
        return stats
    }

    static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }
}
