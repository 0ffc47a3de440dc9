import Foundation
import GGUF
import ShimmyTestSupport
import Testing
@testable import Tensors

/// The sha256 of every tensor in one variant of `../shared/reference/quantized-tensors.json`.
func referenceTensorHashes(_ variant: String) throws -> [String: String] {
    let data = try Data(contentsOf: TestPaths.reference("quantized-tensors.json"))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let variants = try #require(root["variants"] as? [String: Any])
    let tensors = try #require((variants[variant] as? [String: Any])?["tensors"] as? [String: Any])
    var hashes: [String: String] = [:]
    for (name, value) in tensors {
        hashes[name] = try #require((value as? [String: Any])?["sha256"] as? String)
    }
    return hashes
}

/// llama.cpp's own dequantization and quantization of the default model's layer-0 weights (Q4_1) and a
/// slice of the Q8_0 embedding, checked through the kernels directly.
@Suite("Dequantize and quantize against llama.cpp", .serialized)
struct DequantizeGoldenTests {
    static let tensorNames = ["blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                              "blk.0.attn_output.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                              "blk.0.ffn_down.weight", "token_embd.weight"]

    /// The f32 values of a model tensor, dequantized with `reference` or the SIMD kernel.
    static func dequantized(_ file: GGUFFile, _ info: GGUFTensorInfo, reference: Bool) throws -> [Float] {
        let bytes = file.tensorData(info)
        let source = try #require(bytes.baseAddress)
        let kernel = reference ? info.type.traits.dequantizeRowReference : info.type.traits.dequantizeRow
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, count in
            kernel(source, buffer.baseAddress!, info.elementCount)
            count = info.elementCount
        }
    }

    @Test("both dequantizers give llama.cpp's f32 values bit for bit (sha256 of the F32 variant)",
          arguments: [false, true])
    func dequantize(reference: Bool) throws {
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        let want = try referenceTensorHashes("F32")
        for name in Self.tensorNames {
            let info = try #require(file.tensor(named: name))
            let values = try Self.dequantized(file, info, reference: reference)
            let got = values.withUnsafeBytes { SHA256.hex(of: $0) }
            #expect(got == want[name], "\(name) (\(info.type), \(reference ? "reference" : "SIMD")): sha256 \(got.prefix(16)) != \(want[name]?.prefix(16) ?? "missing"); first values \(values.prefix(4))")
        }
    }

    @Test("quantizing llama.cpp's f32 values gives its Q4_0, Q8_0 and F16 bytes", arguments: [GGMLType.q4_0, .q8_0, .f16])
    func quantize(type: GGMLType) throws {
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        let want = try referenceTensorHashes(type.name)
        let quantize = try #require(type.traits.quantizeRow)
        for name in Self.tensorNames where !(type == .q8_0 && name == "token_embd.weight") {
            let info = try #require(file.tensor(named: name))
            let values = try Self.dequantized(file, info, reference: false)
            var bytes = [UInt8](repeating: 0, count: try #require(type.rowSize(info.elementCount)))
            values.withUnsafeBufferPointer { v in bytes.withUnsafeMutableBytes { quantize(v.baseAddress!, $0.baseAddress!, info.elementCount) } }
            let got = SHA256.hex(of: bytes)
            #expect(got == want[name], "\(name) -> \(type): sha256 \(got.prefix(16)) != \(want[name]?.prefix(16) ?? "missing")")
        }
    }
}
