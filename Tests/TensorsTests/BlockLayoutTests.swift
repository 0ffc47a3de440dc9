import GGUF
import Testing
@testable import Tensors

@Suite("Block layouts")
struct BlockLayoutTests {
    @Test("block structs have ggml's byte sizes")
    func sizes() {
        let cases: [(String, Int, Int, Int)] = [
            ("BlockQ4_0", MemoryLayout<BlockQ4_0>.size, BlockQ4_0.byteSize, GGMLType.q4_0.typeSize),
            ("BlockQ4_1", MemoryLayout<BlockQ4_1>.size, BlockQ4_1.byteSize, GGMLType.q4_1.typeSize),
            ("BlockQ8_0", MemoryLayout<BlockQ8_0>.size, BlockQ8_0.byteSize, GGMLType.q8_0.typeSize),
        ]
        for (name, layout, declared, ggml) in cases {
            #expect(layout == declared, "\(name): MemoryLayout size \(layout) != byteSize \(declared)")
            #expect(declared == ggml, "\(name): byteSize \(declared) != GGMLType.typeSize \(ggml)")
        }
        #expect(MemoryLayout<BlockQ4_0>.stride == 18)
        #expect(MemoryLayout<BlockQ4_1>.stride == 20)
        #expect(MemoryLayout<BlockQ8_0>.stride == 34)
        #expect(BlockQ4_0.blockSize == GGMLType.q4_0.blockSize)
        #expect(BlockQ4_1.blockSize == GGMLType.q4_1.blockSize)
        #expect(BlockQ8_0.blockSize == GGMLType.q8_0.blockSize)
    }

    @Test("struct fields sit where the raw kernels read them")
    func fieldOffsets() {
        #expect(MemoryLayout<BlockQ4_0>.offset(of: \.d) == 0)
        #expect(MemoryLayout<BlockQ4_0>.offset(of: \.qs) == 2)
        #expect(MemoryLayout<BlockQ4_1>.offset(of: \.d) == 0)
        #expect(MemoryLayout<BlockQ4_1>.offset(of: \.m) == 2)
        #expect(MemoryLayout<BlockQ4_1>.offset(of: \.qs) == 4)
        #expect(MemoryLayout<BlockQ8_0>.offset(of: \.d) == 0)
        #expect(MemoryLayout<BlockQ8_0>.offset(of: \.qs) == 2)
    }

    @Test("a Q4_0 block built as a struct dequantizes through the raw kernel: low nibbles first")
    func q4_0StructRoundTrip() {
        var block = BlockQ4_0(d: Float16Conversion.bits(from: 0.5), qs: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        block.qs.0 = 0xF3      // weight 0 = (3 - 8) * 0.5, weight 16 = (15 - 8) * 0.5
        var out = [Float](repeating: .nan, count: 32)
        withUnsafeBytes(of: &block) { raw in
            out.withUnsafeMutableBufferPointer { BlockQ4_0.dequantizeRow(raw.baseAddress!, $0.baseAddress!, 32) }
        }
        #expect(out[0] == -2.5, "weight 0: \(out[0])")
        #expect(out[16] == 3.5, "weight 16: \(out[16])")
        #expect(out[1] == -4.0, "weight 1 (nibble 0): \(out[1])")
    }
}
