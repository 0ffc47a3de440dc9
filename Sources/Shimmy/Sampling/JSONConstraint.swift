/// What shape a generation's text must take.
public enum OutputFormat: Sendable, Equatable {
    /// One JSON object and nothing else (OpenAI's `response_format: {"type": "json_object"}`, Ollama's
    /// `format: "json"`): each token is chosen among those that keep the text a prefix of a JSON object, and the
    /// generation ends (finish reason `stop`) as soon as the object is whole.
    case json
    /// One JSON object that `JSONSchema` accepts (OpenAI's `json_schema`, Ollama's `format` with a schema).
    case jsonSchema(JSONSchema)
}

extension JSONSchema {
    /// Throws `ShimmyError` `.invalidRequest` when a generation could not follow this schema (a property twice,
    /// an undefined reference, more than `CompiledSchema.maxAlternatives` alternatives of one type, a root that is
    /// not an object, answers that need more than `SchemaRecognizer.maxDepth` levels).
    /// `objectsOnly`: the schema must also allow nothing but objects (a tool's parameters).
    public func check(objectsOnly: Bool = false) throws(ShimmyError) {
        let compiled = try CompiledSchema(self)
        guard !objectsOnly || compiled.nodes[Int(compiled.root)].kinds == .object else {
            throw ShimmyError(.invalidRequest, "the schema must allow objects only")
        }
    }
}

/// JSON mode's sampling rule: the tokens a recognizer in its current state accepts whole.
///
/// The sampler first picks as usual; only when its pick is not allowed are the logits of every token the
/// recognizer refuses set to -inf and the pick made again, as llama.cpp applies a grammar. Control tokens (and so
/// the end of generation) are never allowed: the generation ends when the object is whole.
struct JSONConstraint {
    /// The recognizer of the format: any object, or one of a schema.
    private enum Recognizer {
        case plain(JSONRecognizer)
        case shaped(SchemaRecognizer, CompiledSchema)
    }

    private var recognizer: Recognizer
    /// Each token's bytes; empty for control tokens.
    let pieces: [[UInt8]]

    init(_ format: OutputFormat, pieces: [[UInt8]]) throws(ShimmyError) {
        self.pieces = pieces
        switch format {
        case .json:
            recognizer = .plain(JSONRecognizer())
        case .jsonSchema(let description):
            let compiled = try CompiledSchema(description)
            recognizer = .shaped(SchemaRecognizer(schema: compiled), compiled)
        }
    }

    /// Whether the text so far is a whole object (of the schema).
    var isComplete: Bool {
        switch recognizer {
        case .plain(let plain): plain.isComplete
        case .shaped(let shaped, _): shaped.isComplete
        }
    }

    /// The recognizer after `bytes`; nil when it cannot take them.
    private func fed(_ bytes: [UInt8]) -> Recognizer? {
        switch recognizer {
        case .plain(var trial): return trial.feed(bytes) ? .plain(trial) : nil
        case .shaped(var trial, let schema): return trial.feed(bytes, schema: schema) ? .shaped(trial, schema) : nil
        }
    }

    /// Takes `token` when it may come next (true); when it may not, the state stays as it was (false).
    mutating func accept(_ token: TokenID) -> Bool {
        guard token >= 0, Int(token) < pieces.count, !pieces[Int(token)].isEmpty,
              let next = fed(pieces[Int(token)]) else { return false }
        recognizer = next
        return true
    }

    /// `logits` with every token that may not come next at -inf; nil when none may. The 256 possible first bytes
    /// are tried first, so that only tokens whose first byte may come next are tried whole (most states allow a
    /// few bytes: a quote, a digit, whitespace).
    func masked(_ logits: [Float]) -> [Float]? {
        var firstBytes = [Bool](repeating: false, count: 256)
        for byte in 0..<256 { firstBytes[byte] = fed([UInt8(byte)]) != nil }
        var out = logits
        var any = false
        for id in out.indices {
            let piece = id < pieces.count ? pieces[id] : []
            if let first = piece.first, firstBytes[Int(first)], piece.count == 1 || fed(piece) != nil {
                any = true
            } else {
                out[id] = -.infinity
            }
        }
        return any ? out : nil
    }
}
