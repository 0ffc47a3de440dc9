#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte strings stored end to end in one buffer: a vocabulary's token texts in two allocations instead of one
/// per token. Building the per-token arrays and chasing their pointers in lookups was a sizeable share of a
/// cold start (49k tokens for SmolLM2).
struct ByteStrings: Sendable {
    private var storage: [UInt8] = []
    /// Where each string starts in `storage`, then the end of the last one.
    private var starts: [Int] = [0]

    init(reservingCount count: Int, bytes: Int) {
        storage.reserveCapacity(bytes)
        starts.reserveCapacity(count + 1)
    }

    /// Number of strings.
    var count: Int { starts.count - 1 }

    /// The bytes of string `i`, sharing the buffer (its indices are positions in the buffer, not from 0).
    subscript(i: Int) -> ArraySlice<UInt8> { storage[starts[i]..<starts[i + 1]] }

    /// The length of string `i`.
    func length(_ i: Int) -> Int { starts[i + 1] - starts[i] }

    /// Calls `body` with the bytes of string `i`.
    @inline(__always)
    func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = starts[i], end = starts[i + 1]
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    /// Appends a string's UTF-8.
    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { storage.append(contentsOf: $0) }
        starts.append(storage.count)
    }
}

/// Whether two byte buffers hold the same bytes (memcmp: the generic `elementsEqual` compared byte by byte).
@inline(__always)
func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let p = a.baseAddress, let q = b.baseAddress else { return true }
    return memcmp(p, q, a.count) == 0
}
