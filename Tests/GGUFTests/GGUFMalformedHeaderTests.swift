import Foundation
import GGUF
import ShimmyTestSupport
import Testing

/// Each malformed class in the header and metadata: a valid file from the writer, corrupted at one field.
@Suite("GGUF malformed files: header and metadata")
struct GGUFMalformedHeaderTests {
    @Test("bad magic")
    func badMagic() throws {
        var bytes = try makeGGUF()
        bytes.patch(bytes: Array("GGML".utf8), at: 0)
        expectGGUFError(bytes, .badMagic(found: 0x4C4D_4747))
    }

    @Test("unsupported version", arguments: [UInt32(0), 1, 4, 0x0300_0000])
    func unsupportedVersion(version: UInt32) throws {
        var bytes = try makeGGUF()
        bytes.patch(version, at: 4)
        expectGGUFError(bytes, .unsupportedVersion(version))
    }

    @Test("the writer refuses versions other than 2 and 3")
    func writerVersion() throws {
        #expect(throws: GGUFError.unsupportedVersion(1)) { try GGUFWriter(version: 1).serialized() }
    }

    @Test("truncation in the fixed header", arguments: [
        (0, "magic", 0), (3, "magic", 0), (4, "version", 4), (7, "version", 4),
        (8, "tensor count", 8), (15, "tensor count", 8), (16, "key-value count", 16), (23, "key-value count", 16),
    ])
    func truncatedHeader(cut: Int, what: String, offset: Int) throws {
        let bytes = try makeGGUF(metadata: [], tensors: [])
        expectGGUFError(Array(bytes.prefix(cut)), .truncated(what: what, offset: offset))
    }

    @Test("truncation inside metadata: key length, key bytes, type, scalar, string value, array count, element")
    func truncatedMetadata() throws {
        let (bytes, layout) = try sampleFile()
        // Key counts must stay plausible for the bytes left, so cut files keep only the first keys.
        func cut(_ n: Int, keys: UInt64) -> [UInt8] {
            var b = Array(bytes.prefix(n))
            b.patch(keys, at: layout.keyCountOffset)
            b.patch(UInt64(0), at: layout.tensorCountOffset)
            return b
        }
        let name = try keyLayout(layout, "general.name")            // key 1
        let u32 = try keyLayout(layout, "test.u32")                 // key 6
        let tokens = try keyLayout(layout, "test.tokens")           // key 13
        expectGGUFError(cut(name.keyOffset + 3, keys: 2), .truncated(what: "key 1", offset: name.keyOffset))
        expectGGUFError(cut(name.typeOffset + 2, keys: 2),
                        .truncated(what: "type of key 'general.name'", offset: name.typeOffset))
        expectGGUFError(cut(u32.valueOffset + 3, keys: 7), .truncated(what: "value of 'test.u32'", offset: u32.valueOffset))
        expectGGUFError(cut(tokens.valueOffset + 2, keys: 14),
                        .truncated(what: "array type of 'test.tokens'", offset: tokens.valueOffset))
        expectGGUFError(cut(tokens.valueOffset + 4 + 7, keys: 14),
                        .truncated(what: "array count of 'test.tokens'", offset: tokens.valueOffset + 4))
        // The elements "<s>", "héllo", "", "▁world" take 11, 14, 8 and 16 bytes; cut in the last one's length
        // (earlier cuts leave fewer than 4 x 8 bytes, which the count check reports as an array too long).
        let last = tokens.valueOffset + 12 + 11 + 14 + 8
        expectGGUFError(cut(last + 5, keys: 14), .truncated(what: "element 3 of 'test.tokens'", offset: last))
        expectGGUFError(cut(last + 10, keys: 14), .stringTooLong(length: 8, offset: last))
    }

    @Test("a string whose length runs past the end of the file")
    func stringPastEnd() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        let name = try keyLayout(layout, "general.name")
        let length = UInt64(bytes.count - name.valueOffset - 8 + 1)
        b.patch(length, at: name.valueOffset)
        expectGGUFError(b, .stringTooLong(length: length, offset: name.valueOffset))
    }

    @Test("a string longer than the cap, in a file big enough to hold it")
    func stringOverCap() throws {
        // A sparse file: the header and one key, then zeros up to past the cap. Nothing is read or copied.
        let (bytes, layout) = try makeGGUFWithLayout(metadata: [("big", .string("x"))], tensors: [])
        let key = try keyLayout(layout, "big")
        var b = Array(bytes.prefix(key.valueOffset + 8))
        let length = UInt64(GGUFLimits.maxStringLength + 1)
        b.patch(length, at: key.valueOffset)
        let path = try writeTemporaryGGUF(b)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(key.valueOffset + 8 + GGUFLimits.maxStringLength + 64))
        try handle.close()
        #expect(throws: GGUFError.stringTooLong(length: length, offset: key.valueOffset)) {
            try GGUFFile(contentsOf: path)
        }
        var c = bytes
        c.patch(UInt64.max, at: key.valueOffset)
        expectGGUFError(c, .stringTooLong(length: UInt64.max, offset: key.valueOffset))
    }

    @Test("a multi-megabyte string (an embedded tokenizer.json) is read")
    func largeString() throws {
        let big = String(repeating: "{\"a\": \"é\"}", count: 300_000)    // 4.2 MB
        let file = try parseGGUF(try makeGGUF(metadata: [("tokenizer.huggingface.json", .string(big))], tensors: []))
        #expect(file["tokenizer.huggingface.json"]?.stringValue?.utf8.count == big.utf8.count)
    }

    @Test("a key whose length is beyond the file")
    func keyLengthPastEnd() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        let key = try keyLayout(layout, "test.u8")
        b.patch(UInt64(1) << 40, at: key.keyOffset)
        expectGGUFError(b, .stringTooLong(length: 1 << 40, offset: key.keyOffset))
    }

    @Test("an array count beyond what the rest of the file can hold", arguments: ["test.tokens", "test.scores", "test.nested"])
    func arrayPastEnd(key: String) throws {
        let (bytes, layout) = try sampleFile()
        let at = try keyLayout(layout, key).valueOffset + 4
        var b = bytes
        // Each string element needs 8 bytes, each float 4, each nested array 12: one element too many.
        let perElement: UInt64 = key == "test.tokens" ? 8 : key == "test.scores" ? 4 : 12
        let count = UInt64(bytes.count - at - 8) / perElement + 1
        b.patch(count, at: at)
        expectGGUFError(b, .arrayTooLong(count: count, key: key, offset: at))
    }

    @Test("an array count over the cap", arguments: [UInt64(GGUFLimits.maxArrayCount) + 1, UInt64.max])
    func arrayOverCap(count: UInt64) throws {
        let (bytes, layout) = try sampleFile()
        let at = try keyLayout(layout, "test.scores").valueOffset + 4
        var b = bytes
        b.patch(count, at: at)
        expectGGUFError(b, .arrayTooLong(count: count, key: "test.scores", offset: at))
    }

    @Test("arrays nested deeper than the cap")
    func nestingTooDeep() throws {
        var value = GGUFValue.array(.uint8, [.uint8(1)])
        for _ in 0..<GGUFLimits.maxNestingDepth { value = .array(.array, [value]) }
        expectGGUFError(try makeGGUF(metadata: [("deep", value)], tensors: []), .nestingTooDeep(key: "deep"))
        // Deep empty arrays too: the element type alone declares the depth.
        var empty = GGUFValue.array(.array, [])
        for _ in 0..<GGUFLimits.maxNestingDepth { empty = .array(.array, [empty]) }
        expectGGUFError(try makeGGUF(metadata: [("deep.empty", empty)], tensors: []), .nestingTooDeep(key: "deep.empty"))
    }

    @Test("an empty key")
    func emptyKey() throws {
        let (bytes, layout) = try sampleFile()
        let key = try keyLayout(layout, "general.name")
        var b = bytes
        // Replace the length and bytes of "general.name" by a zero length.
        b.replaceSubrange(key.keyOffset..<key.typeOffset, with: [UInt8](repeating: 0, count: 8))
        expectGGUFError(b, .emptyKey(index: 1))
        #expect(throws: GGUFError.emptyKey(index: 0)) {
            var w = GGUFWriter()
            w.set("", .uint8(0))
            return try w.serialized()
        }
    }

    @Test("a duplicate key")
    func duplicateKey() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patchString(at: try keyLayout(layout, "test.u16").keyOffset, with: "test.i16")
        // test.i16 follows test.u16, so the second occurrence is the one reported.
        expectGGUFError(b, .duplicateKey("test.i16"))
    }

    @Test("an unknown value type", arguments: [UInt32(13), 99, UInt32.max])
    func unknownValueType(type: UInt32) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(type, at: try keyLayout(layout, "test.f32").typeOffset)
        expectGGUFError(b, .unknownValueType(type, key: "test.f32"))
    }

    @Test("an unknown array element type, top level and nested")
    func unknownElementType() throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(UInt32(42), at: try keyLayout(layout, "test.scores").valueOffset)
        expectGGUFError(b, .unknownValueType(42, key: "test.scores"))
        var n = bytes
        // test.nested: [arr type][count] then the first inner array's element type.
        n.patch(UInt32(13), at: try keyLayout(layout, "test.nested").valueOffset + 12)
        expectGGUFError(n, .unknownValueType(13, key: "test.nested"))
    }

    @Test("invalid UTF-8 in a key, a value and an array element")
    func invalidUTF8() throws {
        let (bytes, layout) = try sampleFile()
        let name = try keyLayout(layout, "general.name")
        var v = bytes
        v[name.valueOffset + 8] = 0xFF
        expectGGUFError(v, .invalidUTF8(offset: name.valueOffset))
        var k = bytes
        k[name.keyOffset + 9] = 0xC3   // a lead byte followed by ASCII
        expectGGUFError(k, .invalidUTF8(offset: name.keyOffset))
        var e = bytes
        let element = try keyLayout(layout, "test.tokens").valueOffset + 12
        e[element + 8 + 1] = 0x80      // a lone continuation byte inside "<s>"
        expectGGUFError(e, .invalidUTF8(offset: element))
    }

    @Test("a key count the file cannot hold", arguments: [UInt64(1_000_000), UInt64.max])
    func tooManyKeys(count: UInt64) throws {
        let (bytes, layout) = try sampleFile()
        var b = bytes
        b.patch(count, at: layout.keyCountOffset)
        expectGGUFError(b, .tooManyKeys(count: count))
    }

    @Test("general.alignment not a power of two", arguments: [UInt32(0), 3, 24, 48, 0xFFFF_FFFF])
    func alignmentNotPowerOfTwo(value: UInt32) throws {
        let (bytes, layout) = try makeGGUFWithLayout(metadata: [("general.alignment", .uint32(32))])
        var b = bytes
        b.patch(value, at: try keyLayout(layout, "general.alignment").valueOffset)
        expectGGUFError(b, .alignmentNotPowerOfTwo(Int(value)))
    }

    @Test("general.alignment of the wrong type")
    func alignmentWrongType() throws {
        let (bytes, layout) = try makeGGUFWithLayout(metadata: [("general.alignment", .uint32(32))])
        var b = bytes
        b.patch(GGUFValueType.int32.rawValue, at: try keyLayout(layout, "general.alignment").typeOffset)
        expectGGUFError(b, .alignmentWrongType(.int32))
    }

    @Test("the writer refuses a bad alignment")
    func writerAlignment() throws {
        #expect(throws: GGUFError.alignmentNotPowerOfTwo(24)) { try GGUFWriter(alignment: 24).serialized() }
        #expect(throws: GGUFError.alignmentNotPowerOfTwo(0)) { try GGUFWriter(alignment: 0).serialized() }
        var w = GGUFWriter()
        w.set("general.alignment", .uint64(32))
        #expect(throws: GGUFError.alignmentWrongType(.uint64)) { try w.serialized() }
    }

    @Test("missing file, directory, empty file")
    func fileErrors() throws {
        let dir = try TestPaths.temporaryDirectory()
        let missing = dir.appendingPathComponent("none.gguf").path
        #expect(throws: GGUFError.fileNotFound(missing)) { try GGUFFile(contentsOf: missing) }
        do {
            _ = try GGUFFile(contentsOf: dir.path)
            Issue.record("a directory parsed")
        } catch {
            guard case .io(let message) = error else { Issue.record("got \(error), expected .io"); return }
            #expect(message.contains(dir.path), "message does not name the path: \(message)")
        }
        let empty = try writeTemporaryGGUF([])
        #expect(throws: GGUFError.truncated(what: "magic", offset: 0)) { try GGUFFile(contentsOf: empty) }
    }

    @Test("errors describe what and where in one line")
    func descriptions() {
        let cases: [(GGUFError, String)] = [
            (.duplicateKey("general.name"), "duplicate key 'general.name' in metadata"),
            (.truncated(what: "key 3", offset: 120), "file truncated: key 3 at offset 120 runs past the end of the file"),
            (.misalignedOffset(tensor: "a", offset: 33, alignment: 32),
             "tensor 'a' offset 33 is not a multiple of the alignment 32"),
            (.badMagic(found: 0x4C4D_4747), "bad magic 0x4c4d4747 at offset 0: not a GGUF file (expected 'GGUF')"),
            (.unsupportedVersion(4), "unsupported GGUF version 4 at offset 4 (supported: 2, 3)"),
            (.unsupportedVersion(1),
             "unsupported GGUF version 1 at offset 4 (supported: 2, 3; version 1 is obsolete, convert the model again)"),
            (.unsupportedVersion(0x0300_0000),
             "unsupported GGUF version 50331648 at offset 4 (supported: 2, 3; a big-endian file?)"),
            (.stringTooLong(length: 5, offset: 40), "string at offset 40 has length 5, past the end of the file"),
            (.missingKey("llama.block_count"), "required metadata key 'llama.block_count' is missing"),
            (.wrongValueType(key: "general.name", expected: "an integer", found: .string),
             "metadata key 'general.name' is str, expected an integer"),
            (.stringTooLong(length: 1 << 27, offset: 40),
             "string at offset 40 has length 134217728, over the cap of 67108864 bytes"),
        ]
        for (error, text) in cases { #expect(error.description == text) }
        // Every case renders as one non-empty line.
        let all: [GGUFError] = [
            .fileNotFound("p"), .io("x"), .truncated(what: "w", offset: 1), .arrayTooLong(count: 9, key: "k", offset: 2),
            .nestingTooDeep(key: "k"), .emptyKey(index: 0), .duplicateTensor("t"), .unknownValueType(13, key: "k"),
            .unknownTensorType(6, tensor: "t"), .invalidUTF8(offset: 3), .alignmentNotPowerOfTwo(3),
            .alignmentWrongType(.int32), .tooManyDimensions(tensor: "t", count: 5), .noDimensions(tensor: "t"),
            .zeroDimension(tensor: "t", index: 1), .negativeDimension(tensor: "t", index: 0, value: -1),
            .dimensionOverflow(tensor: "t"), .rowSizeNotMultipleOfBlock(tensor: "t", rowLength: 3, blockSize: 32),
            .tensorNameTooLong(name: "n", length: 64), .dataOutsideFile(tensor: "t"), .overlappingTensors("a", "b"),
            .tooManyTensors(count: 7), .tooManyKeys(count: 7), .tensorSizeMismatch(tensor: "t", expected: 1, actual: 2),
            .arrayElementMismatch(key: "k", expected: .int32, found: .string), .missingKey("k"),
            .wrongValueType(key: "k", expected: "a string", found: .bool),
        ]
        for error in all {
            #expect(!error.description.isEmpty && !error.description.contains("\n"), "\(error.description)")
        }
    }
}
