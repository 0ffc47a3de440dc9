import Foundation
import GGUF
import ShimmyTestSupport
import Testing

@Suite("GGUF writer: validation and atomic writes")
struct GGUFWriterTests {
    @Test("addTensor rejects what the reader would reject")
    func tensorValidation() throws {
        var w = GGUFWriter()
        try w.addTensor(name: "t", type: .f32, dimensions: [2], data: [UInt8](repeating: 0, count: 8))
        let cases: [(String, GGMLType, [Int], Int, GGUFError)] = [
            ("t", .f32, [2], 8, .duplicateTensor("t")),
            ("u", .f32, [2], 7, .tensorSizeMismatch(tensor: "u", expected: 8, actual: 7)),
            ("u", .f32, [], 0, .noDimensions(tensor: "u")),
            ("u", .f32, [1, 1, 1, 1, 1], 4, .tooManyDimensions(tensor: "u", count: 5)),
            ("u", .f32, [2, 0], 0, .zeroDimension(tensor: "u", index: 1)),
            ("u", .f32, [-2], 0, .negativeDimension(tensor: "u", index: 0, value: -2)),
            ("u", .f32, [Int.max, 2], 0, .dimensionOverflow(tensor: "u")),
            ("u", .f16, [1 << 62, 2], 0, .dimensionOverflow(tensor: "u")),
            ("u", .q4_1, [16, 2], 40, .rowSizeNotMultipleOfBlock(tensor: "u", rowLength: 16, blockSize: 32)),
            (String(repeating: "x", count: 64), .f32, [1], 4,
             .tensorNameTooLong(name: String(repeating: "x", count: 64), length: 64)),
        ]
        for (name, type, dims, count, error) in cases {
            #expect(throws: error, "\(name) \(type) \(dims)") {
                try w.addTensor(name: name, type: type, dimensions: dims, data: [UInt8](repeating: 0, count: count))
            }
        }
        #expect(throws: GGUFError.zeroDimension(tensor: "p", index: 0)) {
            try w.addTensor(name: "p", type: .f32, dimensions: [0]) { _ in }
        }
        #expect(w.tensorNamesInOrder == ["t"], "a rejected tensor was kept: \(w.tensorNamesInOrder)")
    }

    @Test("an array whose elements are not its element type")
    func arrayElementMismatch() throws {
        var w = GGUFWriter()
        w.set("bad", .array(.int32, [.int32(1), .string("x")]))
        #expect(throws: GGUFError.arrayElementMismatch(key: "bad", expected: .int32, found: .string)) {
            try w.serialized()
        }
    }

    @Test("padding bytes are zero and every tensor starts aligned")
    func padding() throws {
        let (bytes, layout) = try makeGGUFWithLayout(alignment: 64)
        #expect(bytes.count % 64 == 0 && layout.dataSectionOffset % 64 == 0)
        let headerPad = bytes[layout.tensorInfoEnd..<layout.dataSectionOffset]
        #expect(headerPad.allSatisfy { $0 == 0 }, "header padding \(Array(headerPad))")
        let a = try tensorLayout(layout, "a"), b = try tensorLayout(layout, "b")
        #expect(bytes[(a.dataOffset + a.byteCount)..<b.dataOffset].allSatisfy { $0 == 0 })
        #expect(bytes[(b.dataOffset + b.byteCount)...].allSatisfy { $0 == 0 })
        #expect(b.dataOffset - layout.dataSectionOffset == 64)
    }

    @Test("the header fields are where the layout says")
    func layoutFields() throws {
        let (bytes, layout) = try sampleFile()
        #expect(bytes.read(UInt32.self, at: layout.versionOffset) == 3)
        #expect(bytes.read(UInt64.self, at: layout.tensorCountOffset) == 2)
        #expect(bytes.read(UInt64.self, at: layout.keyCountOffset) == UInt64(sampleGGUFMetadata.count))
        let key = try keyLayout(layout, "test.u16")
        #expect(bytes.read(UInt64.self, at: key.keyOffset) == 8)
        #expect(bytes.read(UInt32.self, at: key.typeOffset) == GGUFValueType.uint16.rawValue)
        #expect(bytes.read(UInt16.self, at: key.valueOffset) == 60000)
        let b = try tensorLayout(layout, "b")
        #expect(bytes.read(UInt32.self, at: b.dimensionCountOffset) == 2)
        #expect(bytes.read(Int64.self, at: b.dimensionsOffset) == 64)
        #expect(bytes.read(UInt32.self, at: b.typeOffset) == GGMLType.q4_0.rawValue)
        #expect(bytes.read(UInt64.self, at: b.offsetFieldOffset) == 32)
        #expect(bytes.firstOffset(of: Array("test.u16".utf8)) == key.keyOffset + 8)
    }

    @Test("a failing producer leaves neither the target nor a temporary file, and keeps an old target")
    func failedWriteLeavesNothing() throws {
        struct Boom: Error {}
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("model.gguf").path
        var w = GGUFWriter()
        w.set("k", .uint8(1))
        try w.addTensor(name: "p", type: .f32, dimensions: [4]) { _ in throw Boom() }
        #expect(throws: Boom.self) { try w.write(to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        let old = try makeGGUF()
        try Data(old).write(to: URL(fileURLWithPath: path))
        #expect(throws: Boom.self) { try w.write(to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.gguf"])
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == old, "the old file was changed")
    }

    @Test("writing into a missing directory is an I/O error naming the path")
    func unwritable() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("missing/x.gguf").path
        do {
            try GGUFWriter().write(to: path)
            Issue.record("wrote into a missing directory")
        } catch let error as GGUFError {
            guard case .io(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains(path), "\(message)")
        }
    }

    @Test("write(to:) replaces an existing file")
    func replaces() throws {
        let path = try writeTemporaryGGUF(try makeGGUF())
        var w = GGUFWriter()
        w.set("new", .string("yes"))
        try w.write(to: path)
        let file = try GGUFFile(contentsOf: path)
        #expect(file.metadataKeys == ["new"] && file.tensors.isEmpty)
    }
}
