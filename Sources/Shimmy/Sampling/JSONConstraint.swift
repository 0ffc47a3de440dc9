/// What shape a generation's text must take.
public enum OutputFormat: Sendable, Equatable {
    /// One JSON object and nothing else (OpenAI's `response_format: {"type": "json_object"}`, Ollama's
    /// `format: "json"`): each token is chosen among those that keep the text a prefix of a JSON object, and the
    /// generation ends (finish reason `stop`) as soon as the object is whole.
    case json
}

/// JSON mode's sampling rule: the tokens a `JSONRecognizer` in its current state accepts whole.
///
/// The sampler first picks as usual; only when its pick is not allowed are the logits of every token the
/// recognizer refuses set to -inf and the pick made again, as llama.cpp applies a grammar. Control tokens (and so
/// the end of generation) are never allowed: the generation ends when the object is whole.
struct JSONConstraint {
    private(set) var recognizer = JSONRecognizer()
    /// Each token's bytes; empty for control tokens.
    let pieces: [[UInt8]]

    init(pieces: [[UInt8]]) { self.pieces = pieces }

    /// Whether `token` may come next.
    func allows(_ token: TokenID) -> Bool {
        guard token >= 0, Int(token) < pieces.count, !pieces[Int(token)].isEmpty else { return false }
        var trial = recognizer
        return trial.feed(pieces[Int(token)])
    }

    /// Records the chosen token (one `allows` accepted).
    mutating func accept(_ token: TokenID) {
        guard token >= 0, Int(token) < pieces.count else { return }
        _ = recognizer.feed(pieces[Int(token)])
    }

    /// `logits` with every token that may not come next at -inf; nil when none may.
    func masked(_ logits: [Float]) -> [Float]? {
        var out = logits
        var any = false
        for id in out.indices {
            if allows(TokenID(truncatingIfNeeded: id)) { any = true } else { out[id] = -.infinity }
        }
        return any ? out : nil
    }
}
