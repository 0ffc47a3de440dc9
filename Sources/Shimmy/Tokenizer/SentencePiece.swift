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
        let n = starts.count
        var prev = (0..<n).map { $0 - 1 }
        var next = (0..<n).map { $0 + 1 < n ? $0 + 1 : -1 }

        var heap = ScoredQueue()
        func addBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = lengths[left] + lengths[right]
            let start = starts[left]
            guard let token = tokenizer.token(forText: text[start..<(start + size)]) else { return }
            heap.push(ScoredBigram(score: tokenizer.score(of: token), left: left, right: right, size: size))
        }
        for i in 1..<max(n, 1) { addBigram(i - 1, i) }
        while let bigram = heap.pop() {
            let left = bigram.left, right = bigram.right
            if lengths[left] == 0 || lengths[right] == 0 || lengths[left] + lengths[right] != bigram.size { continue }
            lengths[left] += lengths[right]
            lengths[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            addBigram(prev[left], left)
            addBigram(left, next[left])
        }
        var i = 0
        while i >= 0 && i < n {
            let piece = text[starts[i]..<(starts[i] + lengths[i])]
            if let token = tokenizer.token(forText: piece) {
                output.append(token)
            } else {
                for byte in piece {
                    if let token = tokenizer.byteToken(byte) { output.append(token) }
                }
            }
            i = next[i]
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

