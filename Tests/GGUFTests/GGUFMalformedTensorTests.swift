import GGUF
import ShimmyTestSupport
import Testing

/// Each malformed class in tensor infos and tensor data. The sample file holds tensor `a` (F32 [3, 2],
/// 24 bytes at offset 0) and `b` (Q4_0 [64, 2], 72 bytes at offset 32).
@Suite("GGUF malformed files: tensors")
struct GGUFMalformedTensorTests {
    @Test("the sample layout is what these tests assume")
    func sampleLayout() throws {
        let (bytes, layout) = try sampleFile()
        let file = try parseGGUF(bytes)
        #expect(file.tensors.map(\.offset) == [0, 32])
        #expect(file.tensors.map(\.byteCount) == [24, 72])
        #expect(bytes.count == layout.dataSectionOffset + 128)
    }

    @Test("a tensor count the file cannot hold", arguments: [UInt64(1_000_000), UInt64.max])
    func tooManyTensors(count: UInt64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(count, at: layout.tensorCountOffset)
        expectGGUFError(b, .tooManyTensors(count: count))
    }

    @Test("truncation inside a tensor info: name, dimension count, dimension, type, offset")
    func truncatedInfo() throws {
        let tensors = [TestTensor(name: "first.tensor", type: .f32, dimensions: [4, 2]),
                       TestTensor(name: "second.tensor", type: .f16, dimensions: [8, 2])]
        let (bytes, layout) = try makeGGUFWithLayout(metadata: [], tensors: tensors)
        let t = try tensorLayout(layout, "second.tensor")
        let name = "'second.tensor'"
        let cases: [(cut: Int, error: GGUFError)] = [
            (t.infoOffset + 8 + 5, .stringTooLong(length: 13, offset: t.infoOffset)),
            (t.dimensionCountOffset + 2, .truncated(what: "dimension count of tensor \(name)", offset: t.dimensionCountOffset)),
            (t.dimensionsOffset + 8 + 3, .truncated(what: "dimension 1 of tensor \(name)", offset: t.dimensionsOffset + 8)),
            (t.typeOffset + 1, .truncated(what: "type of tensor \(name)", offset: t.typeOffset)),
            (t.offsetFieldOffset + 7, .truncated(what: "offset of tensor \(name)", offset: t.offsetFieldOffset)),
        ]
        for c in cases { expectGGUFError(Array(bytes.prefix(c.cut)), c.error) }
    }

    @Test("truncation in the padding before the data section")
    func truncatedPadding() throws {
        let (bytes, layout) = try sampleFile()
        try #require(layout.dataSectionOffset - layout.tensorInfoEnd >= 2, "no padding in the sample file")
        expectGGUFError(Array(bytes.prefix(layout.tensorInfoEnd + 1)),
                        .truncated(what: "padding before tensor data", offset: layout.tensorInfoEnd))
    }

    @Test("truncation inside tensor data; a missing final padding is fine")
    func truncatedData() throws {
        let (bytes, layout) = try sampleFile()
        expectGGUFError(Array(bytes.prefix(layout.dataSectionOffset + 40)), .dataOutsideFile(tensor: "b"))
        expectGGUFError(Array(bytes.prefix(layout.dataSectionOffset + 103)), .dataOutsideFile(tensor: "b"))
        expectGGUFError(Array(bytes.prefix(layout.dataSectionOffset + 10)), .dataOutsideFile(tensor: "a"))
        let exact = try parseGGUF(Array(bytes.prefix(layout.dataSectionOffset + 104)))
        #expect(exact.tensors.count == 2)
    }

    @Test("a duplicate tensor name")
    func duplicateTensor() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patchString(at: try tensorLayout(layout, "b").infoOffset, with: "a")
        expectGGUFError(b, .duplicateTensor("a"))
    }

    @Test("an unknown tensor type", arguments: [UInt32(4), 6, 12, 39, UInt32.max])
    func unknownTensorType(type: UInt32) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(type, at: try tensorLayout(layout, "b").typeOffset)
        expectGGUFError(b, .unknownTensorType(type, tensor: "b"))
    }

    @Test("more dimensions than ggml allows", arguments: [UInt32(5), 64, UInt32.max])
    func tooManyDimensions(count: UInt32) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(count, at: try tensorLayout(layout, "a").dimensionCountOffset)
        expectGGUFError(b, .tooManyDimensions(tensor: "a", count: count))
    }

    @Test("no dimensions")
    func noDimensions() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(UInt32(0), at: try tensorLayout(layout, "a").dimensionCountOffset)
        expectGGUFError(b, .noDimensions(tensor: "a"))
    }

    @Test("a zero dimension", arguments: [0, 1])
    func zeroDimension(index: Int) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(Int64(0), at: try tensorLayout(layout, "b").dimensionsOffset + 8 * index)
        expectGGUFError(b, .zeroDimension(tensor: "b", index: index))
    }

    @Test("a negative dimension", arguments: [Int64(-3), Int64.min])
    func negativeDimension(value: Int64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(value, at: try tensorLayout(layout, "a").dimensionsOffset + 8)
        expectGGUFError(b, .negativeDimension(tensor: "a", index: 1, value: value))
    }

    @Test("dimensions whose element or byte count overflows",
          arguments: [(Int64(1) << 40, Int64(1) << 40), (Int64.max, Int64(2)), (Int64(1) << 31, Int64(1) << 31)])
    func dimensionOverflow(d0: Int64, d1: Int64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        let dims = try tensorLayout(layout, "a").dimensionsOffset
        b.patch(d0, at: dims)
        b.patch(d1, at: dims + 8)
        expectGGUFError(b, .dimensionOverflow(tensor: "a"))
    }

    @Test("a row length that is not a multiple of the block size", arguments: [1, 31, 48])
    func rowSizeNotMultipleOfBlock(rowLength: Int) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(Int64(rowLength), at: try tensorLayout(layout, "b").dimensionsOffset)
        expectGGUFError(b, .rowSizeNotMultipleOfBlock(tensor: "b", rowLength: rowLength, blockSize: 32))
    }

    @Test("a tensor name over 63 bytes")
    func tensorNameTooLong() throws {
        let (bytes, layout) = try sampleFile()
        let long = String(repeating: "n", count: 64)
        var b = bytes
        let info = try tensorLayout(layout, "b").infoOffset
        var replacement: [UInt8] = []
        withUnsafeBytes(of: UInt64(64).littleEndian) { replacement.append(contentsOf: $0) }
        replacement.append(contentsOf: Array(long.utf8))
        b.replaceSubrange(info..<(info + 9), with: replacement)
        expectGGUFError(b, .tensorNameTooLong(name: long, length: 64))
        let ok = String(repeating: "n", count: 63)
        let file = try parseGGUF(try makeGGUF(tensors: [TestTensor(name: ok, type: .f32, dimensions: [1])]))
        #expect(file.tensors.first?.name == ok)
    }

    @Test("tensor data outside the file", arguments: [UInt64(1) << 20, UInt64.max & ~31, UInt64(Int.max) & ~31])
    func dataOutsideFile(offset: UInt64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(offset, at: try tensorLayout(layout, "b").offsetFieldOffset)
        expectGGUFError(b, .dataOutsideFile(tensor: "b"))
    }

    @Test("a tensor shape too big for its data")
    func shapeBeyondFile() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(Int64(1000), at: try tensorLayout(layout, "b").dimensionsOffset + 8)
        expectGGUFError(b, .dataOutsideFile(tensor: "b"))
    }

    @Test("overlapping tensor data", arguments: [
        (UInt64(0), UInt64(0), Int64(2), "a", "b"),      // same start
        (UInt64(64), UInt64(32), Int64(2), "b", "a"),    // a inside b
        (UInt64(0), UInt64(32), Int64(4), "a", "b"),     // a grown to 48 bytes runs into b
    ])
    func overlapping(offsetA: UInt64, offsetB: UInt64, rowsA: Int64, first: String, second: String) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        let a = try tensorLayout(layout, "a")
        b.patch(offsetA, at: a.offsetFieldOffset)
        b.patch(rowsA, at: a.dimensionsOffset + 8)
        b.patch(offsetB, at: try tensorLayout(layout, "b").offsetFieldOffset)
        expectGGUFError(b, .overlappingTensors(first, second))
    }

    @Test("a misaligned tensor offset", arguments: [UInt64(33), 1, 48])
    func misalignedOffset(offset: UInt64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(offset, at: try tensorLayout(layout, "b").offsetFieldOffset)
        expectGGUFError(b, .misalignedOffset(tensor: "b", offset: Int(offset), alignment: 32))
    }

    @Test("offsets are checked against general.alignment")
    func misalignedForFileAlignment() throws {
        let (bytes, layout) = try makeGGUFWithLayout(alignment: 64)
        var b = bytes
        b.patch(UInt64(32), at: try tensorLayout(layout, "b").offsetFieldOffset)
        expectGGUFError(b, .misalignedOffset(tensor: "b", offset: 32, alignment: 64))
    }
}
