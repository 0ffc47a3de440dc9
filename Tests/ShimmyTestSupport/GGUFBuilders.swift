import Foundation
import GGUF

/// A tensor for `makeGGUF`: shape in ggml order (row length first) and its raw bytes.
public struct TestTensor: Sendable {
    /// The tensor name.
    public var name: String
    /// The element type.
    public var type: GGMLType
    /// ggml order: `dimensions[0]` is the row length.
    public var dimensions: [Int]
    /// Exactly the tensor's byte count of raw data.
    public var data: [UInt8]

    /// A tensor with the given bytes.
    public init(name: String, type: GGMLType, dimensions: [Int], data: [UInt8]) {
        self.name = name
        self.type = type
        self.dimensions = dimensions
        self.data = data
    }

    /// A tensor filled with deterministic pseudo-random bytes (`seed` picks them).
    /// For float types the bytes are valid small floats, so the tensor also dequantizes sensibly.
    public init(name: String, type: GGMLType, dimensions: [Int], seed: UInt64 = 1) {
        let info = GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: 0)
        self.init(name: name, type: type, dimensions: dimensions,
                  data: deterministicBytes(count: info.byteCount, seed: seed &+ UInt64(name.utf8.count)))
    }
}

extension TestTensor {
    /// An F32 tensor holding `values` (little-endian).
    public static func f32(_ name: String, _ dimensions: [Int], _ values: [Float]) -> TestTensor {
        var data: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return TestTensor(name: name, type: .f32, dimensions: dimensions, data: data)
    }

    /// An F16 tensor holding `values` rounded to half precision (little-endian).
    public static func f16(_ name: String, _ dimensions: [Int], _ values: [Float]) -> TestTensor {
        var data: [UInt8] = []
        for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return TestTensor(name: name, type: .f16, dimensions: dimensions, data: data)
    }
}

/// `count` bytes from a fixed xorshift generator: the same `seed` gives the same bytes on every run.
public func deterministicBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        out[i] = UInt8(truncatingIfNeeded: state >> 24)
    }
    return out
}

/// Default metadata for test files: one key of each scalar type, a string array and a nested array.
public let sampleGGUFMetadata: [(String, GGUFValue)] = [
    ("general.architecture", .string("llama")),
    ("general.name", .string("tiny test model")),
    ("test.u8", .uint8(200)),
    ("test.i8", .int8(-5)),
    ("test.u16", .uint16(60000)),
    ("test.i16", .int16(-30000)),
    ("test.u32", .uint32(4_000_000_000)),
    ("test.i32", .int32(-2_000_000_000)),
    ("test.f32", .float32(0.125)),
    ("test.bool", .bool(true)),
    ("test.u64", .uint64(UInt64.max)),
    ("test.i64", .int64(Int64.min)),
    ("test.f64", .float64(-1e300)),
    ("test.tokens", .array(.string, [.string("<s>"), .string("héllo"), .string(""), .string("▁world")])),
    ("test.scores", .array(.float32, [.float32(-1), .float32(0.5)])),
    ("test.nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [])])),
]

/// Default tensors for test files: two small tensors of different types.
public let sampleGGUFTensors: [TestTensor] = [
    TestTensor(name: "a", type: .f32, dimensions: [3, 2], seed: 1),      // 24 bytes: padded to 32
    TestTensor(name: "b", type: .q4_0, dimensions: [64, 2], seed: 2),    // 72 bytes
]

/// A GGUF file made by `GGUFWriter` and where each of its fields is, for tests that corrupt one field.
public func makeGGUFWithLayout(metadata: [(String, GGUFValue)] = sampleGGUFMetadata,
                               tensors: [TestTensor] = sampleGGUFTensors,
                               alignment: Int = GGUFLimits.defaultAlignment,
                               version: UInt32 = 3) throws -> (bytes: [UInt8], layout: GGUFLayout) {
    var writer = GGUFWriter(alignment: alignment, version: version)
    for (key, value) in metadata { writer.set(key, value) }
    for t in tensors { try writer.addTensor(name: t.name, type: t.type, dimensions: t.dimensions, data: t.data) }
    return try writer.serializedWithLayout()
}

/// A GGUF file made by `GGUFWriter`.
public func makeGGUF(metadata: [(String, GGUFValue)] = sampleGGUFMetadata,
                     tensors: [TestTensor] = sampleGGUFTensors,
                     alignment: Int = GGUFLimits.defaultAlignment,
                     version: UInt32 = 3) throws -> [UInt8] {
    try makeGGUFWithLayout(metadata: metadata, tensors: tensors, alignment: alignment, version: version).bytes
}

/// A byte buffer owned by an object, so a `GGUFFile` parsed from it keeps it alive.
public final class OwnedBytes: @unchecked Sendable {
    /// The bytes (64-byte aligned, like a mapping's start).
    public let buffer: UnsafeMutableRawBufferPointer

    /// A copy of `bytes`.
    public init(_ bytes: [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let s = source.baseAddress, let d = storage.baseAddress { d.copyMemory(from: s, byteCount: source.count) }
        }
        buffer = storage
        count = bytes.count
    }

    /// Number of valid bytes.
    public let count: Int

    deinit { buffer.deallocate() }
}

/// Parses `bytes` with `GGUFFile(bytes:owner:)` from a private copy.
public func parseGGUF(_ bytes: [UInt8]) throws(GGUFError) -> GGUFFile {
    let owned = OwnedBytes(bytes)
    return try GGUFFile(bytes: UnsafeRawBufferPointer(rebasing: owned.buffer[0..<owned.count]), owner: owned)
}

/// Writes `bytes` to a fresh temporary directory and returns the file's path.
public func writeTemporaryGGUF(_ bytes: [UInt8], name: String = "test.gguf") throws -> String {
    let url = try TestPaths.temporaryDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

extension Array where Element == UInt8 {
    /// Overwrites `MemoryLayout<T>.size` bytes at `offset` with `value`, little-endian.
    public mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, b) in raw.enumerated() { self[offset + i] = b }
        }
    }

    /// Overwrites bytes at `offset` with `bytes`.
    public mutating func patch(bytes: [UInt8], at offset: Int) {
        replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }

    /// Overwrites a GGUF string's bytes (not its length) at `offset` (the string's u64 length field) with
    /// `text`, which must have the same UTF-8 length.
    public mutating func patchString(at offset: Int, with text: String) {
        patch(bytes: Array(text.utf8), at: offset + 8)
    }

    /// Reads a little-endian integer at `offset`.
    public func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value = T.zero
        Swift.withUnsafeMutableBytes(of: &value) { raw in
            for i in 0..<raw.count { raw[i] = self[offset + i] }
        }
        return T(littleEndian: value)
    }

    /// The first offset where `needle` occurs.
    public func firstOffset(of needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
