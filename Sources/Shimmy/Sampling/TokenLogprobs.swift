import Foundation
import Synchronization

/// A generated token's log-probability under the model, with the most likely tokens at its position: what OpenAI's
/// and Ollama's `logprobs` report.
///
/// The probabilities are the softmax of the raw logits over the whole vocabulary, before penalties, top-k, top-p
/// and temperature: the model's own distribution, as llama.cpp's server reports by default (`n_probs` without
/// `post_sampling_probs`).
///
/// A generation records them in the request's `LogprobRecorder`.
public struct TokenLogprob: Sendable, Equatable {
    public var token: TokenID
    /// The bytes the token stands for (special tokens as their text); may be part of a UTF-8 character.
    public var bytes: [UInt8]
    /// Natural log of the token's probability.
    public var logprob: Float
    /// The most likely tokens at this position, best first (ties: the lower id first); empty in the entries of
    /// `top` themselves.
    public var top: [TokenLogprob]

    public init(token: TokenID, bytes: [UInt8], logprob: Float, top: [TokenLogprob] = []) {
        self.token = token
        self.bytes = bytes
        self.logprob = logprob
        self.top = top
    }

    /// `bytes` as text (U+FFFD for part of a character).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The entry of `token` in the distribution of `logits` (`count` raw logits), with the `top` most likely
    /// tokens; `bytes` gives a token's bytes. Computed as llama.cpp's server does, so that the values are its own:
    /// the vocabulary ranked best first, each probability relative to the largest logit and summed in float in
    /// that order (the order changes the sum by up to ~1e-4), and the log taken of the normalized probability.
    /// Costs a radix sort of the vocabulary (a fraction of a millisecond for 49152 tokens).
    public static func make(_ logits: UnsafePointer<Float>, count: Int, token: TokenID, top: Int,
                            bytes: (TokenID) -> [UInt8]) -> TokenLogprob {
        guard count > 0 else { return TokenLogprob(token: token, bytes: bytes(token), logprob: -.infinity) }
        let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * count)
        let positions = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * count)
        defer {
            keys.deallocate()
            positions.deallocate()
        }
        let order = CandidateSelection.rankPositions(logits: logits, count: count, keys: keys, positions: positions)
        let largest = logits[Int(order[0])]
        var sum: Float = 0
        for i in 0..<count { sum += expf(logits[Int(order[i])] - largest) }
        func logprob(_ id: TokenID) -> Float {
            guard id >= 0, Int(id) < count else { return -.infinity }
            let shifted = logits[Int(id)] - largest
            let p = expf(shifted) / sum
            // a token so far below the largest that its probability is 0 in float keeps a finite value
            return p > 0 ? logf(p) : shifted - logf(sum)
        }
        let alternatives = (0..<min(max(0, top), count)).map { i -> TokenLogprob in
            let id = TokenID(order[i])
            return TokenLogprob(token: id, bytes: bytes(id), logprob: logprob(id))
        }
        return TokenLogprob(token: token, bytes: bytes(token), logprob: logprob(token), top: alternatives)
    }
}

/// Collects a generation's log-probabilities as it makes them (`GenerationRequest.logprobs`): every generated token's
/// entry but the end-of-generation token's, recorded before the `.chunk` that carries the token is sent. `take`
/// hands them out chunk by chunk (the generation may have run ahead of the chunks read so far).
///
/// ```swift
/// let logprobs = LogprobRecorder(top: 3)
/// let request = GenerationRequest(prompt: .text("Hello"), sampling: .greedy, maxTokens: 8, logprobs: logprobs)
/// var tokens = 0
/// for try await event in model.generate(request) {
///     guard case .chunk(_, let ids) = event else { continue }
///     tokens += ids.count
///     for entry in logprobs.take(upTo: tokens) { print(entry.text, entry.logprob, entry.top.map(\.text)) }
/// }
/// ```
/// One recorder serves one generation; it is equal only to itself.
public final class LogprobRecorder: Sendable, Equatable, CustomStringConvertible {
    /// How many most likely tokens each entry lists (`TokenLogprob.top`).
    public let top: Int
    private let state = Mutex<(entries: [TokenLogprob], taken: Int)>(([], 0))

    public init(top: Int = 0) { self.top = max(0, top) }

    /// Called by the session for each generated token, in order.
    public func record(_ entry: TokenLogprob) { state.withLock { $0.entries.append(entry) } }

    /// The entries of the first `count` generated tokens that `take` has not handed out yet.
    public func take(upTo count: Int = .max) -> [TokenLogprob] {
        state.withLock { state in
            let end = min(max(count, state.taken), state.entries.count)
            defer { state.taken = end }
            return Array(state.entries[state.taken..<end])
        }
    }

    /// Every entry recorded so far, taken or not.
    public var entries: [TokenLogprob] { state.withLock { $0.entries } }

    public var description: String { "LogprobRecorder(top: \(top))" }

    public static func == (lhs: LogprobRecorder, rhs: LogprobRecorder) -> Bool { lhs === rhs }
}
