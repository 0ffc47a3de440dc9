/// Byte-level BPE: merge ranks keyed by the pair of symbol ids, and the merge loop of llama.cpp's
/// `llm_tokenizer_bpe_session` (lowest rank first; equal ranks: leftmost pair first).
///
/// Symbols are interned strings: ids below the vocabulary size are token ids, higher ids name strings that
/// occur in merges but not in the vocabulary.
struct BPEMerges: Sendable {
    /// (left symbol << 32 | right symbol) → (rank, merged symbol)
    private let ranks: RankTable
    /// The symbol of each byte's byte-level character, or -1 when no token or merge uses it.
    let byteSymbol: [Int32]
    private let vocabularySize: Int32

    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    init(merges: [String], table: TokenTable, tokens: [[UInt8]]) {
        let vocabularySize = tokens.count
        self.vocabularySize = Int32(vocabularySize)
        var extra: [ByteKey: Int32] = [:]
        var nextExtra = Int32(vocabularySize)
        // the symbol of `left + right`: its token id, else an id past the vocabulary (rare)
        func intern(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Int32 {
            if let id = table.find(left, right, in: tokens) { return id }
            let key = ByteKey(Array(left) + Array(right))
            if let id = extra[key] { return id }
            extra[key] = nextExtra
            nextExtra += 1
            return nextExtra - 1
        }
        let none = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var ranks = RankTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            var text = merge
            text.withUTF8 { bytes in
                // the separator is the first space after the first byte (a merge may start with a space);
                // without one, llama.cpp records the pair ("", "")
                var space = -1
                if bytes.count > 1 {
                    for i in 1..<bytes.count where bytes[i] == 0x20 { space = i; break }
                }
                let left = space >= 0 ? UnsafeBufferPointer(rebasing: bytes[0..<space]) : none
                let right = space >= 0 ? UnsafeBufferPointer(rebasing: bytes[(space + 1)...]) : none
                let a = intern(left, none)
                let b = intern(right, none)
                let key = BPEMerges.key(a, b)
                if ranks.find(key) == nil {
                    ranks.insert(key, Merge(rank: Int32(rank), result: intern(left, right)))
                }
            }
        }
        self.ranks = ranks
        self.byteSymbol = (0..<256).map { b in
            let text = ByteLevel.utf8ForByte[b]
            return table.find(text, in: tokens) ?? extra[ByteKey(text)] ?? -1
        }
    }

    @inline(__always) private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// Whether a symbol id is a token id.
    @inline(__always) func isToken(_ symbol: Int32) -> Bool { symbol >= 0 && symbol < vocabularySize }

    /// Merges one word (its raw UTF-8 bytes); returns each final symbol with the byte range it covers.
    func merge(word: ArraySlice<UInt8>) -> [(symbol: Int32, range: Range<Int>)] {
        let n = word.count
        guard n > 0 else { return [] }
        let base = word.startIndex
        var symbol = [Int32](repeating: -1, count: n)
        var length = [Int](repeating: 1, count: n)
        var prev = [Int](repeating: -1, count: n)
        var next = [Int](repeating: -1, count: n)
        for i in 0..<n {
            symbol[i] = byteSymbol[Int(word[base + i])]
            prev[i] = i - 1
            next[i] = i + 1 < n ? i + 1 : -1
        }
        var queue = BigramQueue()
        func addBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, let m = ranks.find(BPEMerges.key(symbol[left], symbol[right])) else { return }
            queue.push(Bigram(rank: m.rank, left: Int32(left), right: Int32(right),
                              size: Int32(length[left] + length[right]), result: m.result))
        }
        for i in 1..<n { addBigram(i - 1, i) }
        while let bigram = queue.pop() {
            let left = Int(bigram.left), right = Int(bigram.right)
            // skip pairs that an earlier merge changed
            if length[left] == 0 || length[right] == 0 || length[left] + length[right] != Int(bigram.size) { continue }
            symbol[left] = bigram.result
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            addBigram(prev[left], left)
            addBigram(left, next[left])
        }
        var out: [(symbol: Int32, range: Range<Int>)] = []
        var i = 0
        while i >= 0 && i < n {
            out.append((symbol[i], (base + i)..<(base + i + length[i])))
            i = next[i]
        }
        return out
    }
}

/// Pair key → merge, as an open-addressing table (the merge loop looks a pair up for every neighbour).
struct RankTable: Sendable {
    private var keys: [UInt64]
    private var values: [BPEMerges.Merge]
    private let mask: Int
    /// No pair has this key: symbols are never -1 in the table.
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: RankTable.empty, count: size)
        values = [BPEMerges.Merge](repeating: BPEMerges.Merge(rank: 0, result: 0), count: size)
        mask = size - 1
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    func find(_ key: UInt64) -> BPEMerges.Merge? {
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == RankTable.empty { return nil }
            if k == key { return values[i] }
            i = (i + 1) & mask
        }
    }

    /// Adds a key that is not in the table yet.
    mutating func insert(_ key: UInt64, _ value: BPEMerges.Merge) {
        var i = slot(key)
        while keys[i] != RankTable.empty && keys[i] != key { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
    }
}

/// A candidate merge of two neighbouring symbols.
struct Bigram: HeapOrdered {
    var rank: Int32
    var left: Int32
    var right: Int32
    var size: Int32
    var result: Int32
    /// Pops first: lower rank, then the leftmost pair.
    @inline(__always) func before(_ other: Bigram) -> Bool {
        rank < other.rank || (rank == other.rank && left < other.left)
    }
}

/// The merge candidates, best first.
typealias BigramQueue = BinaryHeap<Bigram>

