import Foundation
import GGUF
import ShimmyTestSupport
import Testing

/// The default model against facts from llama.cpp's gguf-py (`quantized-tensors.json`).
@Suite("GGUF: the real default model")
struct GGUFRealModelTests {
    struct Expected: Decodable {
        struct Variant: Decodable {
            let file_size: Int
            let tensor_count: Int
            let tensor_order: [String]
            let tensors: [String: Tensor]
        }
        struct Tensor: Decodable {
            let type: String
            let shape: [Int]
            let n_bytes: Int
            let data_offset: Int
            let sha256: String
        }
        let variants: [String: Variant]
    }

    static func expected() throws -> Expected.Variant {
        let data = try Data(contentsOf: TestPaths.reference("quantized-tensors.json"))
        return try #require(try JSONDecoder().decode(Expected.self, from: data).variants["Q4_1"])
    }

    @Test("SHA-256 helper matches known digests")
    func sha256KnownAnswers() {
        #expect(SHA256.hex(of: Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: [UInt8]())
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("header and metadata")
    func metadata() throws {
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.description == "GGUF v3: 33 keys, 272 tensors, alignment 32, data at 1785664 of 98362432 bytes")
        #expect(file.metadata.count == 33 && file.metadataKeys.count == 33)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file["general.architecture"]?.stringValue == "llama")
        #expect(file["llama.block_count"] == .uint32(30))
        #expect(file["llama.embedding_length"]?.intValue == 576)
        #expect(file["llama.rope.freq_base"] == .float32(100_000))
        #expect(file["tokenizer.ggml.add_bos_token"] == .bool(false))
        #expect(file["general.languages"]?.stringArray == ["en"])
        let tokens = try #require(file["tokenizer.ggml.tokens"]?.stringArray)
        #expect(tokens.count == 49152)
        #expect(Array(tokens.prefix(3)) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(tokens[256] == "ĠĠ" && tokens.last == "ectable", "tokens[256] \(tokens[256]), last \(tokens.last ?? "-")")
        let merges = try #require(file["tokenizer.ggml.merges"]?.stringArray)
        #expect(merges.count == 48900 && merges.first == "Ġ t" && merges.last == "ect able")
        let types = try #require(file["tokenizer.ggml.token_type"]?.intArray)
        #expect(types.count == 49152 && types[0] == 3 && types[17] == 1)
        let template = try #require(file["tokenizer.chat_template"]?.stringValue)
        #expect(template.hasPrefix("{% for message in messages %}") && template.contains("<|im_start|>assistant"))
    }

    @Test("every tensor's name, type, shape, size and offset match gguf-py")
    func tensorInfos() throws {
        let expected = try Self.expected()
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        #expect(file.fileSize == expected.file_size)
        #expect(file.tensors.count == expected.tensor_count)
        #expect(file.tensors.map(\.name) == expected.tensor_order)
        #expect(file.dataOffset == 1_785_664)
        var mismatches: [String] = []
        for info in file.tensors {
            guard let e = expected.tensors[info.name] else { mismatches.append("\(info.name): unexpected"); continue }
            let absolute = file.dataOffset + info.offset
            if info.type.name != e.type || info.dimensions != e.shape || info.byteCount != e.n_bytes
                || absolute != e.data_offset {
                mismatches.append("\(info) (\(info.byteCount) bytes @\(absolute)) vs \(e.type) \(e.shape) "
                                  + "(\(e.n_bytes) bytes @\(e.data_offset))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) tensors differ, first: \(mismatches.prefix(3))")
    }

    @Test("tensor bytes are in place in the mapping and hash as gguf-py's",
          arguments: ["blk.0.attn_norm.weight", "blk.0.ffn_down.weight", "blk.29.attn_v.weight", "output_norm.weight"])
    func tensorBytes(name: String) throws {
        let expected = try #require(try Self.expected().tensors[name])
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        let info = try #require(file.tensor(named: name))
        let data = file.tensorData(info)
        let base = try #require(file.bytes.baseAddress)
        let start = try #require(data.baseAddress)
        #expect(start - base == expected.data_offset, "\(name) at \(start - base), expected \(expected.data_offset)")
        #expect(start >= base && start + data.count <= base + file.fileSize, "\(name) is outside the mapping")
        #expect(data.count == expected.n_bytes)
        #expect(SHA256.hex(of: data) == expected.sha256, "\(name) bytes differ")
    }

    @Test("rewriting the model with the writer gives the same bytes")
    func rewriteIdentical() throws {
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        var writer = GGUFWriter(alignment: file.alignment, version: file.version)
        for key in file.metadataKeys { writer.set(key, try #require(file[key])) }
        for info in file.tensors {
            try writer.addTensor(name: info.name, type: info.type, dimensions: info.dimensions) { out in
                out.copyMemory(from: file.tensorData(info))
            }
        }
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("copy.gguf").path
        try writer.write(to: path)
        let copy = try GGUFFile(contentsOf: path)
        #expect(copy.fileSize == file.fileSize)
        let a = try #require(copy.bytes.baseAddress), b = try #require(file.bytes.baseAddress)
        let same = copy.fileSize == file.fileSize && memcmp(a, b, file.fileSize) == 0
        #expect(same, "the rewritten file differs from the original")
        try? FileManager.default.removeItem(atPath: path)
    }
}
