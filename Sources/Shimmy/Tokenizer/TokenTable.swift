/// Token text → id, as an open-addressing hash table over the vocabulary's own bytes: lookups take any byte
/// buffer and allocate nothing. A text that occurs twice maps to its later id, as llama.cpp's `token_to_id` does.
struct TokenTable: Sendable {
    /// A slot: the top half of the text's hash, and the token id (-1 for an empty slot). One 8-byte load per
    /// probe; the text is compared only when the hash halves agree.
    private struct Slot {
        var hash: UInt32
        var id: Int32
    }
    private var slots: [Slot]
    private let mask: Int

    /// 64-bit FNV-1a, continued from `seed` (so hash(a + b) = hash(b, seed: hash(a))).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var h = seed
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// `hash` continued over one byte.
    @inline(__always)
    static func hash(byte: UInt8, seed: UInt64) -> UInt64 { (seed ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }

    init(tokens: ByteStrings) {
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        slots = [Slot](repeating: Slot(hash: 0, id: -1), count: capacity)
        mask = capacity - 1
        for id in 0..<tokens.count {
            tokens.withBytes(id) { text in
                let h = TokenTable.hash(text)
                let tag = UInt32(truncatingIfNeeded: h >> 32)
                var i = Int(truncatingIfNeeded: h) & mask
                while true {
                    let existing = slots[i]
                    if existing.id < 0 {
                        slots[i] = Slot(hash: tag, id: Int32(id))
                        return
                    }
                    if existing.hash == tag && tokens.withBytes(Int(existing.id), { sameBytes($0, text) }) {
                        slots[i].id = Int32(id)  // a later duplicate wins
                        return
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    /// The id of the token whose text is `bytes`.
    func find(_ bytes: UnsafeBufferPointer<UInt8>, in tokens: ByteStrings) -> TokenID? {
        let h = TokenTable.hash(bytes)
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[i]
            if slot.id < 0 { return nil }
            if slot.hash == tag && tokens.withBytes(Int(slot.id), { sameBytes($0, bytes) }) { return slot.id }
            i = (i + 1) & mask
        }
    }

    /// `find` for any collection of bytes (a contiguous one is not copied).
    func find<C: Collection>(_ bytes: C, in tokens: ByteStrings) -> TokenID? where C.Element == UInt8 {
        if let id = bytes.withContiguousStorageIfAvailable({ find($0, in: tokens) }) { return id }
        return Array(bytes).withUnsafeBufferPointer { find($0, in: tokens) }
    }
}
