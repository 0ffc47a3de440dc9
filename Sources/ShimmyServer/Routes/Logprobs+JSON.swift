import Shimmy

/// Generated tokens' log-probabilities in the shapes OpenAI's and Ollama's clients read.
enum LogprobsJSON {
    /// OpenAI chat's `logprobs` of a choice or chunk: `{"content": [entry], "refusal": null}`, each entry
    /// `{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}`.
    static func openAIChat(_ entries: [TokenLogprob]) -> JSONValue {
        ["content": .array(entries.map(entry)), "refusal": nil]
    }

    /// Ollama's `logprobs`: the same entries as OpenAI chat's `content`.
    static func ollama(_ entries: [TokenLogprob]) -> JSONValue { .array(entries.map(entry)) }

    /// `{token, logprob, bytes, top_logprobs}`.
    static func entry(_ entry: TokenLogprob) -> JSONValue {
        .object(alternative(entry) + [("top_logprobs", .array(entry.top.map { .object(alternative($0)) }))])
    }

    private static func alternative(_ entry: TokenLogprob) -> [(String, JSONValue)] {
        [("token", .string(entry.text)), ("logprob", logprob(entry.logprob)),
         ("bytes", .array(entry.bytes.map { .int(Int($0)) }))]
    }

    /// The legacy completions form: `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`, the
    /// offsets counted in characters (Unicode scalars) of the generated text from `offset` (the characters of the tokens before
    /// these). Alternatives with the same text keep the likelier one's value, as an object has one per key.
    static func openAICompletion(_ entries: [TokenLogprob], offset: inout Int) -> JSONValue {
        var offsets: [JSONValue] = []
        for entry in entries {
            offsets.append(.int(offset))
            offset += entry.text.unicodeScalars.count
        }
        let tops = entries.map { entry -> JSONValue in
            var seen = Set<String>()
            return .object(entry.top.compactMap { alternative in
                seen.insert(alternative.text).inserted ? (alternative.text, logprob(alternative.logprob)) : nil
            })
        }
        return ["tokens": .array(entries.map { .string($0.text) }),
                "token_logprobs": .array(entries.map { logprob($0.logprob) }),
                "top_logprobs": .array(tops), "text_offset": .array(offsets)]
    }

    /// A log-probability as a JSON number; one too small for a float (or not a number) as -9999, the value
    /// OpenAI gives a token it deems impossible.
    private static func logprob(_ value: Float) -> JSONValue { value.isFinite ? .number(value) : .double(-9999) }
}
