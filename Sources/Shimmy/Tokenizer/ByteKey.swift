/// A dictionary key made of raw bytes, hashed once with FNV-1a so lookups cost one `Hasher` round, and
/// compared byte for byte (token texts are bytes: Swift `String` keys would merge canonically equal texts).
/// A key may be a slice of a larger array, so lookups of a substring allocate nothing.
struct ByteKey: Hashable, Sendable {
    let bytes: ArraySlice<UInt8>
    let hash: UInt64

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        bytes.withUnsafeBufferPointer { buffer in
            for b in buffer {
                h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
            }
        }
        hash = h
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func == (a: ByteKey, b: ByteKey) -> Bool {
        a.hash == b.hash && a.bytes.count == b.bytes.count && a.bytes.elementsEqual(b.bytes)
    }
}
