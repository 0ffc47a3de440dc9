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

    /// The legacy completions form: `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`.
    /// Each offset counts the characters (Unicode scalars) of the generated text before the token's first byte:
    /// `offset` carries the count and the bytes of a character not yet whole from one call to the next. Alternatives
    /// with the same text keep the likelier one's value, as an object has one per key.
    static func openAICompletion(_ entries: [TokenLogprob], offset: inout TextOffset) -> JSONValue {
        var offsets: [JSONValue] = []
        for entry in entries {
            offsets.append(.int(offset.characters))
            offset.append(entry.bytes)
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

    /// Characters of a text that arrives as bytes: whole ones counted, a character's first bytes held until it is.
    struct TextOffset {
        private(set) var characters = 0
        private var pending: [UInt8] = []

        mutating func append(_ bytes: [UInt8]) {
            pending += bytes
            let whole = StreamingDecoder.completePrefixLength(pending)
            characters += String(decoding: pending[..<whole], as: UTF8.self).unicodeScalars.count
            pending.removeFirst(whole)
        }
    }

    /// A log-probability as a JSON number; one too small for a float (or not a number) as -9999, the value
    /// OpenAI gives a token it deems impossible.
    private static func logprob(_ value: Float) -> JSONValue { value.isFinite ? .number(value) : .double(-9999) }
}
