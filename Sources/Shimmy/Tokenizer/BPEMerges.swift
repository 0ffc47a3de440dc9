/// Byte-level BPE: the rank of each merge, keyed by its text, and the merge loop of llama.cpp's
/// `llm_tokenizer_bpe_session` (lowest rank first; equal ranks: leftmost pair first).
///
/// As in llama.cpp, symbols are spans of the word's byte-level text and a pair is looked up by the text
/// "left right". Loading only hashes each merge's text once (no token lookups), which keeps a 49k-merge table
/// cheap to build at every start; the merged symbols are looked up as tokens after the loop.
struct BPEMerges: Sendable {
    /// Each merge's text, by rank.
    private let texts: ByteStrings
    /// Open addressing: the top half of a merge text's hash, and the rank of its first occurrence (-1: empty).
    private var slots: [Slot]
    private let mask: Int

    private struct Slot {
        var hash: UInt32
        var rank: Int32
    }

    init(merges: [String]) {
        var texts = ByteStrings(reservingCount: merges.count, bytes: merges.reduce(0) { $0 + $1.utf8.count })
        for merge in merges { texts.append(merge) }
        self.texts = texts
        var capacity = 16
        while capacity < merges.count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(hash: 0, rank: -1), count: capacity)
        let mask = capacity - 1
        self.mask = mask
        for rank in 0..<texts.count {
            texts.withBytes(rank) { text in
                // the separator is the first space after the first byte (a merge may start with a space); without
                // one, llama.cpp records the pair ("", ""), which no symbol matches
                guard text.count > 1, text[1...].contains(0x20) else { return }
                let h = TokenTable.hash(text)
                let tag = UInt32(truncatingIfNeeded: h >> 32)
                var i = Int(truncatingIfNeeded: h) & mask
                while slots[i].rank >= 0 {
                    // a repeated merge keeps its first rank
                    if slots[i].hash == tag && texts.withBytes(Int(slots[i].rank), { sameBytes($0, text) }) { return }
                    i = (i + 1) & mask
                }
                slots[i] = Slot(hash: tag, rank: Int32(rank))
            }
        }
        self.slots = slots
    }

    /// The rank of the merge "left right", or nil when there is none; `leftHash` is `TokenTable.hash(left)`.
    /// (The byte-level text has no space: every byte stands for a code point above U+0020. So `left` has none
    /// either, and the merge text's first space is the one after `left`, where llama.cpp splits it.)
    @inline(__always)
    func rank(_ left: UnsafeBufferPointer<UInt8>, leftHash: UInt64, _ right: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = TokenTable.hash(right, seed: TokenTable.hash(byte: 0x20, seed: leftHash))
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        let count = left.count + 1 + right.count
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[i]
            if slot.rank < 0 { return nil }
            if slot.hash == tag && texts.length(Int(slot.rank)) == count && texts.withBytes(Int(slot.rank), { t in
                sameBytes(UnsafeBufferPointer(rebasing: t[..<left.count]), left) && t[left.count] == 0x20
                    && sameBytes(UnsafeBufferPointer(rebasing: t[(left.count + 1)...]), right)
            }) {
                return slot.rank
            }
            i = (i + 1) & mask
        }
    }

    /// Merges one word given as its byte-level text and the start of each byte's code point in it
    /// (`ByteLevel.encode`); returns each final symbol's span of the text.
    func merge(_ text: [UInt8], starts start: [Int]) -> [Range<Int>] {
        let n = start.count - 1
        guard n > 0 else { return [] }
        // symbols are counted in bytes of the word; each keeps the hash of its text (the helpers below take the
        // chain and hashes as arguments: captured, they cost a dynamic exclusivity check per access)
        var chain = MergeChain(sizes: [Int](repeating: 1, count: n))
        var hashes = [UInt64](repeating: 0, count: n)
        var queue = BigramQueue()
        text.withUnsafeBufferPointer { text in
            func span(_ i: Int, size: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: text[start[i]..<start[i + size]])
            }
            func bigram(_ left: Int, _ right: Int, _ chain: MergeChain, _ hashes: [UInt64]) -> Bigram? {
                guard left >= 0, right >= 0 else { return nil }
                let l = chain.size[left], r = chain.size[right]
                guard let rank = rank(span(left, size: l), leftHash: hashes[left], span(right, size: r)) else { return nil }
                return Bigram(rank: rank, left: Int32(left), right: Int32(right), size: Int32(l + r))
            }
            for i in 0..<n { hashes[i] = TokenTable.hash(span(i, size: 1)) }
            for i in 1..<n {
                if let b = bigram(i - 1, i, chain, hashes) { queue.push(b) }
            }
            while let popped = queue.pop() {
                let left = Int(popped.left), right = Int(popped.right)
                guard chain.isCurrent(left, right, size: Int(popped.size)) else { continue }
                hashes[left] = TokenTable.hash(span(right, size: chain.size[right]), seed: hashes[left])
                chain.join(left, right)
                if let b = bigram(chain.prev[left], left, chain, hashes) { queue.push(b) }
                if let b = bigram(left, chain.next[left], chain, hashes) { queue.push(b) }
            }
        }
        return chain.starts.map { start[$0]..<start[$0 + chain.size[$0]] }
    }
}

/// A candidate merge of two neighbouring symbols.
struct Bigram: HeapOrdered {
    var rank: Int32
    var left: Int32
    var right: Int32
    var size: Int32
    /// Pops first: lower rank, then the leftmost pair.
    @inline(__always) func before(_ other: Bigram) -> Bool {
        rank < other.rank || (rank == other.rank && left < other.left)
    }
}

/// The merge candidates, best first.
typealias BigramQueue = BinaryHeap<Bigram>

