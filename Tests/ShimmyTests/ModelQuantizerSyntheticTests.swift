import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Tensors
import Testing

/// Small models written with `GGUFWriter`, for the source types the default model lacks (F16, BF16, Q4_0)
/// and for the fallback and metadata rules.
@Suite("ModelQuantizer on synthetic models")
struct ModelQuantizerSyntheticTests {
    /// Bytes of `values` (a multiple of the block size) stored as `type`.
    static func encode(_ values: [Float], as type: GGMLType) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: try #require(type.rowSize(values.count)))
        let quantize = try #require(type.traits.quantizeRow)
        values.withUnsafeBufferPointer { v in bytes.withUnsafeMutableBytes { quantize(v.baseAddress!, $0.baseAddress!, values.count) } }
        return bytes
    }

    /// The floats stored in `bytes` of `type`.
    static func decode(_ bytes: UnsafeRawBufferPointer, as type: GGMLType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, n in
            type.traits.dequantizeRow(bytes.baseAddress!, buffer.baseAddress!, count)
            n = count
        }
    }

    static func values(_ count: Int, offset: Float) -> [Float] {
        (0..<count).map { Float(0.1 + Double(2 * cos(Float($0) + offset))) }
    }

    /// Writes a model with one 2-D weight per source type, a norm and an odd-width weight.
    static func writeModel(to path: String) throws -> [String: (GGMLType, [Int], [UInt8])] {
        var tensors: [String: (GGMLType, [Int], [UInt8])] = [:]
        tensors["blk.0.f16.weight"] = (.f16, [64, 3], try encode(values(192, offset: 1), as: .f16))
        tensors["blk.0.bf16.weight"] = (.bf16, [64, 2], try encode(values(128, offset: 2), as: .bf16))
        tensors["blk.1.q4_0.weight"] = (.q4_0, [32, 4], try encode(values(128, offset: 3), as: .q4_0))
        tensors["blk.1.f32.weight"] = (.f32, [32, 2], try encode(values(64, offset: 4), as: .f32))
        tensors["blk.0.attn_norm.weight"] = (.f32, [64], try encode(values(64, offset: 5), as: .f32))
        tensors["odd.weight"] = (.f32, [48, 2], try encode(values(96, offset: 6), as: .f32))
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("general.file_type", .uint32(1))
        writer.set("custom.key", .array(.int32, [.int32(1), .int32(-2)]))
        for name in tensors.keys.sorted() {
            let (type, dims, data) = tensors[name]!
            try writer.addTensor(name: name, type: type, dimensions: dims, data: data)
        }
        try writer.write(to: path)
        return tensors
    }

    @Test("every source type is requantized exactly as dequantize -> quantize; norms copied; odd rows become F16",
          arguments: [GGMLType.q8_0, .q4_0, .q4_1, .f16, .bf16, .f32])
    func convert(target: GGMLType) throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.gguf").path
        let output = directory.appendingPathComponent("out.gguf").path
        let source = try Self.writeModel(to: input)
        try ModelQuantizer.quantize(input: input, output: output, type: target)
        let file = try GGUFFile(contentsOf: output)

        #expect(file.metadataKeys == ["general.architecture", "custom.key", "general.quantization_version",
                                      "general.file_type"], "keys: \(file.metadataKeys)")
        #expect(file["general.file_type"]?.intValue == Int(target.fileType))
        #expect(file["custom.key"] == .array(.int32, [.int32(1), .int32(-2)]))
        #expect(file.tensors.map(\.name) == ["odd.weight", "blk.0.attn_norm.weight", "blk.0.bf16.weight",
                                             "blk.0.f16.weight", "blk.1.f32.weight", "blk.1.q4_0.weight"])
        for info in file.tensors {
            let (sourceType, dims, data) = try #require(source[info.name])
            #expect(info.dimensions == dims, "\(info.name): \(info.dimensions)")
            let expectedType: GGMLType = dims.count == 1 ? sourceType : (dims[0] % target.blockSize == 0 ? target : .f16)
            #expect(info.type == expectedType, "\(info.name): \(info.type), want \(expectedType)")
            let got = Array(file.tensorData(info))
            if expectedType == sourceType {
                #expect(got == data, "\(info.name): bytes changed though the type did not")
            } else {
                let floats = data.withUnsafeBytes { Self.decode($0, as: sourceType, count: info.elementCount) }
                let want = try Self.encode(floats, as: expectedType)
                let first = got.indices.first { got[$0] != want[$0] }
                #expect(got == want, "\(info.name) \(sourceType) -> \(expectedType): first differing byte \(String(describing: first))")
            }
        }
    }
}
