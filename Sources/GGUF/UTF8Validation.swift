/// Whether `bytes` is well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates, nothing past
/// U+10FFFF). Hand-written because `String(validating:as:)` cost ~80 ns per short string, which was half
/// the parse time of a 49k-token vocabulary; `String(decoding:as:)` is fast on input known to be valid.
@inline(__always)
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let n = bytes.count
    var i = 0
    while i < n {
        // ASCII fast path, 8 bytes at a time.
        while i + 8 <= n,
              UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
        }
        guard i < n else { break }
        let b0 = base[i]
        if b0 < 0x80 { i += 1; continue }
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF    // allowed range of the second byte
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard i + length <= n else { return false }
        let b1 = base[i + 1]
        guard b1 >= low, b1 <= high else { return false }
        for k in 2..<length where base[i + k] & 0xC0 != 0x80 { return false }
        i += length
    }
    return true
}
