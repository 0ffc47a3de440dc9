/// SentencePiece-style tokenization as llama.cpp's `llm_tokenizer_spm_session` does it: start from UTF-8
/// characters, repeatedly merge the neighbouring pair whose joined text is the best-scoring token (equal
/// scores: leftmost first), then write each final piece as its token or as byte tokens.
struct SentencePiece {
    /// Tokenizes already-escaped text (spaces as U+2581).
    static func tokenize(_ text: [UInt8], tokenizer: Tokenizer, into output: inout [TokenID]) {
        let count = text.count
        guard count > 0 else { return }
        var starts: [Int] = []
        var lengths: [Int] = []
        var offset = 0
        while offset < count {
            let n = min(LlamaUTF8.sequenceLength(lead: text[offset]), count - offset)
            starts.append(offset)
            lengths.append(n)
            offset += n
        }
        var chain = MergeChain(sizes: lengths)  // sizes in bytes

        var heap = ScoredQueue()
        func addBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = chain.size[left] + chain.size[right]
            let start = starts[left]
            guard let token = tokenizer.token(forText: text[start..<(start + size)]) else { return }
            heap.push(ScoredBigram(score: tokenizer.score(of: token), left: left, right: right, size: size))
        }
        for i in 1..<max(starts.count, 1) { addBigram(i - 1, i) }
        while let bigram = heap.pop() {
            let left = bigram.left, right = bigram.right
            guard chain.isCurrent(left, right, size: bigram.size) else { continue }
            chain.join(left, right)
            addBigram(chain.prev[left], left)
            addBigram(left, chain.next[left])
        }
        for i in chain.starts {
            let piece = text[starts[i]..<(starts[i] + chain.size[i])]
            if let token = tokenizer.token(forText: piece) {
                output.append(token)
            } else {
                for byte in piece {
                    if let token = tokenizer.byteToken(byte) { output.append(token) }
                }
            }
        }
    }
}

struct ScoredBigram: HeapOrdered {
    var score: Float
    var left: Int
    var right: Int
    var size: Int
    /// Pops first: higher score, then the leftmost pair.
    @inline(__always) func before(_ other: ScoredBigram) -> Bool {
        score > other.score || (score == other.score && left < other.left)
    }
}

/// The merge candidates, best first.
typealias ScoredQueue = BinaryHeap<ScoredBigram>

