import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// Hyperparameters a crafted file can claim: every one is bounded before anything is sized from it, so loading
/// fails with the key's name instead of an arithmetic-overflow trap (which took a whole server down).
@Suite("model hyperparameter bounds")
struct ModelConfigBoundsTests {
    /// The default model's metadata with `changes` applied, and only its token embedding (all the config reads).
    static func model(_ changes: [(String, GGUFValue)]) throws -> String {
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        var writer = GGUFWriter(alignment: file.alignment, version: file.version)
        for key in file.metadataKeys { writer.set(key, try #require(file[key])) }
        for (key, value) in changes { writer.set(key, value) }
        try writer.addTensor(name: "token_embd.weight", type: .f32, dimensions: [576, 8]) { out in
            out.initializeMemory(as: UInt8.self, repeating: 0)
        }
        return try writeTemporaryGGUF(try writer.serialized(), name: "bounds.gguf")
    }

    static let cases: [(String, GGUFValue)] = [
        ("llama.attention.head_count", GGUFValue.uint64(UInt64(1) << 32)),
        ("llama.attention.key_length", GGUFValue.uint64(UInt64(1) << 62)),
        ("llama.attention.key_length", GGUFValue.int64(Int64.min / 2 - 2)),
        ("llama.attention.head_count_kv", GGUFValue.uint32(0)),
        ("llama.attention.head_count_kv", GGUFValue.uint32(10)),
        ("llama.rope.dimension_count", GGUFValue.int64(Int64.min / 8)),
        ("llama.rope.dimension_count", GGUFValue.int32(-2)),
        ("llama.embedding_length", GGUFValue.uint64(UInt64(1) << 40)),
        ("llama.feed_forward_length", GGUFValue.uint64(UInt64(1) << 40)),
        ("llama.block_count", GGUFValue.uint64(UInt64(1) << 40)),
        ("llama.context_length", GGUFValue.int64(-5)),
    ]

    @Test("out-of-range hyperparameters fail with the key's name", arguments: cases)
    func outOfRange(key: String, value: GGUFValue) throws {
        let path = try Self.model([(key, value)])
        let file = try GGUFFile(contentsOf: path)
        #expect { try LlamaConfig(gguf: file) } throws: { error in
            guard let error = error as? ShimmyError else { return false }
            return error.code == .serverError && error.message.contains(key.dropFirst("llama.".count))
        }
        #expect { try LlamaModel.load(path: path) } throws: { ($0 as? ShimmyError)?.code == .serverError }
    }

    @Test("the real model's values pass")
    func realModel() throws {
        let config = try LlamaConfig(gguf: try GGUFFile(contentsOf: Self.model([])))
        #expect(config.headCount == 9 && config.headCountKV == 3 && config.headDimension == 64)
    }
}
