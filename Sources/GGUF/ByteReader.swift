/// A bounds-checked little-endian cursor over a byte buffer. Every read checks the bytes left first and
/// throws `GGUFError.truncated` naming what it was reading, so no input can read out of bounds.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes between the cursor and the end of the buffer.
    var remaining: Int { bytes.count - offset }

    /// Reads one little-endian integer.
    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(what: what(), offset: offset) }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Reads one little-endian integer; a truncation error names nothing (see `GGUFError.naming`).
    /// For hot loops, where building the name per element would cost more than the read.
    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        try read(T.self, "")
    }

    /// Reads a `u64` length and that many bytes of UTF-8; a truncation error names nothing.
    mutating func readString() throws(GGUFError) -> String {
        try readString("")
    }

    /// Reads a `u64` length and that many bytes of UTF-8.
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(GGUFLimits.maxStringLength), length <= UInt64(remaining) else {
            throw .stringTooLong(length: length, offset: start)
        }
        let count = Int(length)
        if count == 0 { return "" }
        guard let base = bytes.baseAddress else { throw .truncated(what: what(), offset: start) }
        let utf8 = UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: count)
        guard isValidUTF8(utf8) else { throw .invalidUTF8(offset: start) }
        let string = String(decoding: utf8, as: UTF8.self)
        offset += count
        return string
    }

    /// Moves the cursor to `newOffset`, which must lie within the buffer.
    mutating func seek(to newOffset: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        guard newOffset >= 0, newOffset <= bytes.count else { throw .truncated(what: what(), offset: offset) }
        offset = newOffset
    }
}

extension GGUFError {
    /// A truncation error that names nothing gets `what`; other errors are returned unchanged.
    func naming(_ what: @autoclosure () -> String) -> GGUFError {
        if case .truncated(let old, let offset) = self, old.isEmpty { return .truncated(what: what(), offset: offset) }
        return self
    }
}
