/// Ollama's truncation of a conversation longer than the context (`chatPrompt` in its server), used by the server's
/// `/api/chat` and by `shimmy chat`.
///
/// ```swift
/// let tokens = try model.countTokens(.messages(messages))
/// if let kept = try ChatTruncation.fitted(messages, tokens: tokens, contextLength: model.contextLength, maxTokens: 256,
///                                         count: { try model.countTokens(.messages($0)) }) {
///     messages = kept.messages
/// }
/// ```
public enum ChatTruncation {
    /// What is left of a conversation of `tokens` prompt tokens that does not fit in the context: `recentMessages`
    /// with `reserve(maxTokens:contextLength:)` of room for the answer. Nil when the conversation fits as it is,
    /// and when not even its last message fits.
    public static func fitted(_ messages: [ChatMessage], tokens: Int, contextLength: Int, maxTokens: Int?,
                              count: ([ChatMessage]) throws -> Int)
        rethrows -> (messages: [ChatMessage], tokens: Int)?
    {
        guard tokens >= contextLength else { return nil }
        return try recentMessages(messages, contextLength: contextLength,
                                  reserve: reserve(maxTokens: maxTokens, contextLength: contextLength), count: count)
    }

    /// The system messages and the most recent messages whose prompt leaves `reserve` tokens of the context for the
    /// answer (Ollama fills its context and shifts it while generating; shimmy does not shift, so the answer needs
    /// that room), the last message always among them. When the last message with the system messages leaves less
    /// than `reserve`, those alone as long as they fit at all; nil when they do not.
    ///
    /// `count` gives a list's prompt tokens, which only grow with the messages kept: the search probes back from
    /// the last message by doubling steps, then bisects, so it counts O(log n) prompts of at most about twice the
    /// kept size, not one per message.
    public static func recentMessages(_ messages: [ChatMessage], contextLength: Int, reserve: Int,
                                      count: ([ChatMessage]) throws -> Int)
        rethrows -> (messages: [ChatMessage], tokens: Int)?
    {
        let last = messages.count - 1
        guard last >= 1 else { return nil }
        let systemIndices = messages.indices.filter { messages[$0].role == "system" }
        func kept(from start: Int) -> [ChatMessage] {
            systemIndices.prefix { $0 < start }.map { messages[$0] } + messages[start...]
        }
        let budget = contextLength - reserve
        let lastTokens = try count(kept(from: last))
        guard lastTokens < contextLength else { return nil }
        guard lastTokens <= budget else { return (kept(from: last), lastTokens) }
        // the smallest start in 1...last that fits the budget (start 0, the whole conversation, did not fit)
        var fitting = (start: last, tokens: lastTokens)
        var failing = 0
        var step = 1
        while fitting.start - step > failing {
            let start = fitting.start - step
            let tokens = try count(kept(from: start))
            guard tokens <= budget else { failing = start; break }
            fitting = (start, tokens)
            step *= 2
        }
        while fitting.start - failing > 1 {
            let start = (fitting.start + failing) / 2
            let tokens = try count(kept(from: start))
            if tokens <= budget { fitting = (start, tokens) } else { failing = start }
        }
        return (kept(from: fitting.start), fitting.tokens)
    }

    /// The room left for the answer: `num_predict` when given, else a quarter of the context; at most half of it.
    public static func reserve(maxTokens: Int?, contextLength: Int) -> Int {
        min(maxTokens ?? contextLength / 4, contextLength / 2)
    }
}
