import Foundation
import GGUF
import ShimmyTestSupport
import Testing

@Suite("GGUF round trip: writer then reader")
struct GGUFRoundTripTests {
    @Test("every metadata value type survives, in file order", arguments: [UInt32(2), 3])
    func metadataRoundTrip(version: UInt32) throws {
        let file = try parseGGUF(try makeGGUF(version: version))
        #expect(file.version == version)
        #expect(file.metadataKeys == sampleGGUFMetadata.map(\.0))
        for (key, value) in sampleGGUFMetadata {
            #expect(file[key] == value, "key \(key): read \(String(describing: file[key])), wrote \(value)")
        }
    }

    @Test("typed accessors")
    func accessors() throws {
        let file = try parseGGUF(try makeGGUF())
        #expect(file["general.architecture"]?.stringValue == "llama")
        #expect(file["test.u8"]?.intValue == 200)
        #expect(file["test.i64"]?.intValue == Int(Int64.min))
        #expect(file["test.u64"]?.intValue == nil, "u64 max does not fit Int")
        #expect(file["test.u64"]?.doubleValue == Double(UInt64.max))
        #expect(file["test.f32"]?.floatValue == 0.125)
        #expect(file["test.i32"]?.floatValue == -2e9)
        #expect(file["test.bool"]?.boolValue == true)
        #expect(file["test.tokens"]?.stringArray == ["<s>", "héllo", "", "▁world"])
        #expect(file["test.scores"]?.floatArray == [-1, 0.5])
        #expect(file["test.nested"]?.arrayValue?.first?.intArray == [1, 2])
        #expect(file["test.nested"]?.arrayValue?.last?.intArray == [])
        #expect(file["test.tokens"]?.floatArray == nil)
        #expect(file["general.name"]?.intValue == nil)
        #expect(file["missing"] == nil)
    }

    @Test("typed reads name the key when it is missing or of the wrong type")
    func typedReads() throws {
        let file = try parseGGUF(try makeGGUF())
        #expect(try file.int("test.u16") == 60000)
        #expect(try file.int("absent", default: 7) == 7)
        #expect(try file.float("test.f32") == 0.125)
        #expect(try file.float("test.i8") == -5)
        #expect(try file.float("absent", default: 1e-5) == 1e-5)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.string("absent", default: "x") == "x")
        #expect(try file.bool("test.bool", default: false) == true)
        #expect(try file.stringArray("test.tokens").count == 4)
        #expect(try file.floatArray("test.scores") == [-1, 0.5])
    }

    @Test("typed read errors", arguments: [
        ("absent", GGUFError.missingKey("absent")),
        ("general.name", GGUFError.wrongValueType(key: "general.name", expected: "an integer", found: .string)),
        ("test.u64", GGUFError.wrongValueType(key: "test.u64", expected: "an integer", found: .uint64)),
    ])
    func typedReadErrors(key: String, error: GGUFError) throws {
        let file = try parseGGUF(try makeGGUF())
        #expect(throws: error) { try file.int(key) }
        if key != "absent" {
            #expect(throws: error) { try file.int(key, default: 0) }   // present with a bad type: no default
        }
        #expect(throws: GGUFError.wrongValueType(key: "test.tokens", expected: "an array of integers", found: .array)) {
            try file.intArray("test.tokens")
        }
        #expect(throws: GGUFError.wrongValueType(key: "test.u8", expected: "a string", found: .uint8)) {
            try file.string("test.u8", default: "")
        }
    }

    @Test("nested arrays up to the depth cap", arguments: 1...GGUFLimits.maxNestingDepth)
    func nestedArrays(depth: Int) throws {
        var value = GGUFValue.array(.uint16, [.uint16(7), .uint16(9)])
        for _ in 1..<depth { value = .array(.array, [value, value]) }
        let file = try parseGGUF(try makeGGUF(metadata: [("deep", value)], tensors: []))
        #expect(file["deep"] == value)
    }

    @Test("tensors of every type: shape, offsets and bytes", arguments: [1, 8, 32, 64, 4096])
    func tensorsRoundTrip(alignment: Int) throws {
        let tensors = GGMLType.allCases.enumerated().map { i, type in
            TestTensor(name: "t.\(type.name)", type: type, dimensions: [type.blockSize * 3, 2, i + 1], seed: UInt64(i))
        } + [TestTensor(name: "vector", type: .f32, dimensions: [5], seed: 9),
             TestTensor(name: "four.d", type: .f16, dimensions: [2, 3, 1, 2], seed: 10)]
        let (bytes, layout) = try makeGGUFWithLayout(tensors: tensors, alignment: alignment)
        let file = try parseGGUF(bytes)
        #expect(file.alignment == alignment)
        #expect(file.dataOffset == layout.dataSectionOffset)
        #expect(file.dataOffset % alignment == 0)
        #expect(file.fileSize == layout.fileSize && bytes.count == layout.fileSize)
        #expect(file.tensors.map(\.name) == tensors.map(\.name))
        for t in tensors {
            let info = try #require(file.tensor(named: t.name))
            #expect(info.dimensions == t.dimensions && info.type == t.type, "\(info) vs \(t.dimensions) \(t.type)")
            #expect(info.offset % alignment == 0, "\(t.name) offset \(info.offset)")
            #expect(info.byteCount == t.data.count)
            #expect(info.rowLength == t.dimensions[0])
            #expect(info.rowCount == t.dimensions.dropFirst().reduce(1, *))
            #expect(info.elementCount == t.dimensions.reduce(1, *))
            let data = Array(file.tensorData(info))
            #expect(data == t.data, "\(t.name): first bytes \(data.prefix(8)) vs \(t.data.prefix(8))")
        }
    }

    @Test("float tensors from Float values")
    func floatTensors() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "w", dimensions: [3], floats: [1, -2.5, 0.125])
        let file = try parseGGUF(try writer.serialized())
        let data = try #require(file.tensorData(named: "w"))
        let floats = (0..<3).map { data.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        #expect(floats == [1, -2.5, 0.125])
        #expect(throws: GGUFError.tensorSizeMismatch(tensor: "v", expected: 8, actual: 4)) {
            try writer.addTensor(name: "v", dimensions: [2], floats: [1])
        }
        let helpers = try parseGGUF(try makeGGUF(tensors: [.f32("a", [2], [3, 4]), .f16("h", [2], [0.5, -1])]))
        let h = try #require(helpers.tensorData(named: "h"))
        #expect(Float(Float16(bitPattern: h.loadUnaligned(fromByteOffset: 2, as: UInt16.self))) == -1)
        #expect(try #require(helpers.tensorData(named: "a")).loadUnaligned(fromByteOffset: 4, as: Float.self) == 4)
    }

    @Test("a non-default alignment is written as general.alignment")
    func alignmentKey() throws {
        let file = try parseGGUF(try makeGGUF(metadata: [], alignment: 64))
        #expect(file["general.alignment"] == .uint32(64))
        #expect(file.alignment == 64)
        let plain = try parseGGUF(try makeGGUF(metadata: []))
        #expect(plain["general.alignment"] == nil && plain.alignment == 32)
    }

    @Test("general.alignment set as metadata overrides the init alignment")
    func alignmentFromMetadata() throws {
        let (bytes, layout) = try makeGGUFWithLayout(metadata: [("general.alignment", .uint32(16))], alignment: 32)
        let file = try parseGGUF(bytes)
        #expect(file.alignment == 16 && layout.alignment == 16)
        #expect(file.tensors.allSatisfy { $0.offset % 16 == 0 })
        #expect(file.tensors[1].offset == 32, "24-byte tensor 'a' padded to 32, got \(file.tensors[1].offset)")
    }

    @Test("a file without tensors or metadata")
    func emptyFile() throws {
        let bytes = try makeGGUF(metadata: [], tensors: [])
        #expect(bytes.count == 32, "24-byte header padded to 32, got \(bytes.count)")
        let file = try parseGGUF(bytes)
        #expect(file.metadata.isEmpty && file.tensors.isEmpty && file.dataOffset == 32)
        // A header without the padding is still a valid file when there are no tensors.
        let short = try parseGGUF(Array(bytes.prefix(24)))
        #expect(short.tensors.isEmpty && short.dataOffset == 24)
    }

    @Test("replacing a key keeps its position; remove drops it")
    func writerKeyOrder() throws {
        var writer = GGUFWriter()
        writer.set("x", .uint8(1))
        writer.set("y", .uint8(2))
        writer.set("x", .string("again"))
        writer.set("z", .bool(false))
        writer.remove("y")
        let file = try parseGGUF(try writer.serialized())
        #expect(file.metadataKeys == ["x", "z"])
        #expect(file["x"] == .string("again"))
    }

    @Test("producer tensors are filled at write time, in memory and on disk")
    func producerTensor() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "p", type: .q8_0, dimensions: [32, 3]) { buffer in
            for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: i * 7) }
        }
        try writer.addTensor(name: "d", type: .f32, dimensions: [1], data: [1, 2, 3, 4])
        let expected = (0..<102).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let memory = try parseGGUF(try writer.serialized())
        #expect(Array(memory.tensorData(try #require(memory.tensor(named: "p")))) == expected)

        let path = try TestPaths.temporaryDirectory().appendingPathComponent("p.gguf").path
        try writer.write(to: path)
        let disk = try GGUFFile(contentsOf: path)
        #expect(Array(disk.tensorData(try #require(disk.tensor(named: "p")))) == expected)
        #expect(Array(disk.tensorData(try #require(disk.tensor(named: "d")))) == [1, 2, 3, 4])
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == (try writer.serialized()),
                "write(to:) and serialized() differ")
    }

    @Test("write(to:) then mmap: tensor bytes are in place inside the mapping")
    func mappedInPlace() throws {
        let bytes = try makeGGUF()
        let path = try writeTemporaryGGUF(bytes)
        let file = try GGUFFile(contentsOf: path)
        let base = try #require(file.bytes.baseAddress)
        for info in file.tensors {
            let data = file.tensorData(info)
            let start = try #require(data.baseAddress)
            #expect(start - base == file.dataOffset + info.offset, "\(info.name) is not in place")
            #expect(start + data.count <= base + file.fileSize)
        }
    }

    @Test("tensorData(named:) and madvise hints")
    func namedDataAndAdvice() throws {
        let bytes = try makeGGUF()
        let mapped = try GGUFFile(contentsOf: try writeTemporaryGGUF(bytes))
        #expect(mapped.isMapped)
        #expect(mapped.tensorData(named: "b")?.count == 72)
        #expect(mapped.tensorData(named: "missing") == nil)
        for advice in [GGUFFile.AccessAdvice.willNeed, .sequential, .random, .normal] {
            #expect(mapped.advise(advice), "madvise \(advice) refused")
        }
        let memory = try parseGGUF(bytes)
        #expect(!memory.isMapped && !memory.advise(.willNeed))
    }

    @Test("tensorData of an info from elsewhere is empty, not out of bounds")
    func foreignInfo() throws {
        let file = try parseGGUF(try makeGGUF())
        let far = GGUFTensorInfo(name: "x", dimensions: [1 << 20], type: .f32, offset: 0)
        #expect(file.tensorData(far).isEmpty)
        let negative = GGUFTensorInfo(name: "x", dimensions: [1], type: .f32, offset: -64)
        #expect(file.tensorData(negative).isEmpty)
        let overflow = GGUFTensorInfo(name: "x", dimensions: [1], type: .f32, offset: Int.max)
        #expect(file.tensorData(overflow).isEmpty)
    }
}
