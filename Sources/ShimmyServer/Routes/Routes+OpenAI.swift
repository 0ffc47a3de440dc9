import Foundation
import Shimmy

/// OpenAI-compatible endpoints: `/v1/chat/completions`, `/v1/completions`, `/v1/models`.
extension Routes {
    /// GET /v1/models: `{"object": "list", "data": [{id, object: "model", created, owned_by: "shimmy"}]}`.
    func openAIModels() -> HTTPResponse {
        .json(["object": "list", "data": .array(context.catalog.availableModels().map(openAIModel))])
    }

    /// GET /v1/models/{id}: one model, or model_not_found. The id is matched as the generation endpoints match a
    /// model: `default` is the default model (listed first), other names as `ModelRegistry.match`.
    func openAIModel(_ id: String) throws -> HTTPResponse {
        let models = context.catalog.availableModels()
        guard let model = ModelRegistry.isDefaultAlias(id) ? models.first : ModelRegistry.match(id, in: models) else {
            throw APIError(ShimmyError(.modelNotFound, "Model '\(id)' is not available"))
        }
        return .json(openAIModel(model))
    }

    private func openAIModel(_ model: ModelDescriptor) -> JSONValue {
        ["id": .string(model.name), "object": "model",
         "created": .int((model.modified ?? context.startedAt).unixSeconds),
         "owned_by": "shimmy"]
    }

    /// POST /v1/chat/completions. With tools, the answer is read whole (`ToolAnswer`) before it goes out: a
    /// message with `tool_calls` and finish reason `tool_calls`, or one with the response's text.
    func chatCompletions() throws -> RouteOutcome {
        let decoded = try OpenAIRequestDecoder.chat(request.body)
        let id = "chatcmpl-" + OpenAIIDs.random()
        let created = JSONValue.int(Date().unixSeconds)
        let model = JSONValue.string(try servedModelName(decoded.model))
        // null unless the request asked for logprobs
        let logprobs: ([TokenLogprob]) -> JSONValue = { decoded.logprobs == nil ? nil : LogprobsJSON.openAIChat($0) }
        let tools = decoded.tools != nil
        func finishReason(_ stats: GenerationStats, _ answer: ToolAnswer?) -> JSONValue {
            answer?.calls.isEmpty == false ? "tool_calls" : .string(stats.finishReason.apiValue)
        }
        if !decoded.stream {
            return try respondWhole(decoded) { completed in
                let answer = tools ? ToolAnswer(completed.text) : nil
                let message: JSONValue = if let answer, !answer.calls.isEmpty {
                    ["role": "assistant", "content": nil, "tool_calls": answer.openAICalls()]
                } else {
                    ["role": "assistant", "content": .string(answer?.content ?? completed.text)]
                }
                return ["id": .string(id), "object": "chat.completion", "created": created, "model": model,
                        "choices": [["index": 0, "message": message, "logprobs": logprobs(completed.logprobs),
                                     "finish_reason": finishReason(completed.stats, answer)]],
                        "usage": completed.stats.usageJSON]
            }
        }
        let usageField: [(String, JSONValue)] = decoded.includeUsage ? [("usage", .null)] : []
        func chunk(_ delta: JSONValue, logprobs: JSONValue = nil, finish: JSONValue) -> JSONValue {
            .object([("id", .string(id)), ("object", "chat.completion.chunk"), ("created", created), ("model", model),
                     ("choices", [["index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish]])]
                    + usageField)
        }
        // the first chunk carries the role, as OpenAI's does (with tools, content null until the answer is known)
        let opening: JSONValue = ["role": "assistant", "content": tools ? nil : ""]
        var first = true
        // with tools, the text until the answer is whole
        var held = ""
        return try respondStreaming(
            decoded, contentType: "text/event-stream",
            event: { text, entries in
                var bytes: [UInt8] = []
                if first {
                    first = false
                    bytes += SSE.event(chunk(opening, finish: nil))
                }
                if tools {
                    held += text
                    return bytes
                }
                return bytes + SSE.event(chunk(["content": .string(text)], logprobs: logprobs(entries), finish: nil))
            },
            finish: { stats, entries in
                var bytes: [UInt8] = []
                if first { bytes += SSE.event(chunk(opening, finish: nil)) }
                let answer = tools ? ToolAnswer(held) : nil
                if let answer {
                    bytes += SSE.event(chunk(answer.calls.isEmpty ? ["content": .string(answer.content)]
                                                                  : ["tool_calls": answer.openAICalls(indexed: true)], finish: nil))
                }
                // a stop string's tokens, which gave no text
                bytes += SSE.event(chunk([:], logprobs: entries.isEmpty ? nil : logprobs(entries),
                                         finish: finishReason(stats, answer)))
                if decoded.includeUsage {
                    bytes += SSE.event(["id": .string(id), "object": "chat.completion.chunk", "created": created,
                                        "model": model, "choices": [], "usage": stats.usageJSON])
                }
                return bytes + SSE.done
            },
            failure: { SSE.event($0.openAIJSON) })
    }

    /// POST /v1/completions.
    func completions() throws -> RouteOutcome {
        let decoded = try OpenAIRequestDecoder.completion(request.body)
        let id = "cmpl-" + OpenAIIDs.random()
        let created = JSONValue.int(Date().unixSeconds)
        let model = JSONValue.string(try servedModelName(decoded.model))
        // null unless the request asked for logprobs; offsets run on across the chunks of a stream
        var offset = LogprobsJSON.TextOffset()
        let logprobs: ([TokenLogprob]) -> JSONValue = {
            decoded.logprobs == nil ? nil : LogprobsJSON.openAICompletion($0, offset: &offset)
        }
        if !decoded.stream {
            return try respondWhole(decoded) { completed in
                ["id": .string(id), "object": "text_completion", "created": created, "model": model,
                 "choices": [["text": .string(completed.text), "index": 0, "logprobs": logprobs(completed.logprobs),
                              "finish_reason": .string(completed.stats.finishReason.apiValue)]],
                 "usage": completed.stats.usageJSON]
            }
        }
        let usageField: [(String, JSONValue)] = decoded.includeUsage ? [("usage", .null)] : []
        func chunk(_ text: String, logprobs: JSONValue = nil, finish: JSONValue) -> JSONValue {
            .object([("id", .string(id)), ("object", "text_completion"), ("created", created), ("model", model),
                     ("choices", [["text": .string(text), "index": 0, "logprobs": logprobs, "finish_reason": finish]])]
                    + usageField)
        }
        return try respondStreaming(
            decoded, contentType: "text/event-stream",
            event: { text, entries in SSE.event(chunk(text, logprobs: logprobs(entries), finish: nil)) },
            finish: { stats, entries in
                var bytes = SSE.event(chunk("", logprobs: entries.isEmpty ? nil : logprobs(entries),
                                            finish: .string(stats.finishReason.apiValue)))
                if decoded.includeUsage {
                    bytes += SSE.event(["id": .string(id), "object": "text_completion", "created": created,
                                        "model": model, "choices": [], "usage": stats.usageJSON])
                }
                return bytes + SSE.done
            },
            failure: { SSE.event($0.openAIJSON) })
    }
}

/// Random identifiers for completion objects.
enum OpenAIIDs {
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(UInt8.random(in: 0..<16, using: &generator), radix: 16) }.joined()
    }
}

extension Date {
    /// Whole seconds since 1970, clamped to the years 1 to 9999: a catalog's dates (a file's mtime) can claim any
    /// value, and `Int(_:)` traps beyond Int's range.
    var unixSeconds: Int { Int(min(max(timeIntervalSince1970, -62_135_596_800), 253_402_300_799)) }
}
