/// Token text → id, as an open-addressing hash table over the vocabulary's own bytes: lookups take any byte
/// buffer (or two pieces of one, for "left + right" merge results) and allocate nothing. A text that occurs
/// twice maps to its later id, as llama.cpp's `token_to_id` does.
struct TokenTable: Sendable {
    private var slots: [Int32]      // token id, or -1 for an empty slot
    private var hashes: [UInt64]
    private let mask: Int

    /// 64-bit FNV-1a, continued from `seed` (so hash(a + b) = hash(b, seed: hash(a))).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var h = seed
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    init(tokens: [[UInt8]]) {
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        hashes = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for (id, text) in tokens.enumerated() {
            text.withUnsafeBufferPointer { buffer in
                let h = TokenTable.hash(buffer)
                var i = Int(truncatingIfNeeded: h) & mask
                while true {
                    let existing = slots[i]
                    if existing < 0 {
                        slots[i] = Int32(id)
                        hashes[i] = h
                        return
                    }
                    if hashes[i] == h && tokens[Int(existing)] == text {
                        slots[i] = Int32(id)  // a later duplicate wins
                        return
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    /// The id of the token whose text is `left` followed by `right`.
    func find(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0),
              in tokens: [[UInt8]]) -> TokenID? {
        let h = TokenTable.hash(right, seed: TokenTable.hash(left))
        let count = left.count + right.count
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[i]
            if id < 0 { return nil }
            if hashes[i] == h {
                let text = tokens[Int(id)]
                if text.count == count && text.withUnsafeBufferPointer({ t in
                    t.prefix(left.count).elementsEqual(left) && t.suffix(right.count).elementsEqual(right)
                }) {
                    return id
                }
            }
            i = (i + 1) & mask
        }
    }

    /// The id of the token whose text is `bytes`.
    func find<C: Collection>(_ bytes: C, in tokens: [[UInt8]]) -> TokenID? where C.Element == UInt8 {
        if let id = bytes.withContiguousStorageIfAvailable({ find($0, in: tokens) }) { return id }
        return Array(bytes).withUnsafeBufferPointer { find($0, in: tokens) }
    }
}
