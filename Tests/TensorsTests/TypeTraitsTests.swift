import GGUF
import Testing
@testable import Tensors

@Suite("Type traits")
struct TypeTraitsTests {
    @Test("every type has kernels for itself, with a quantizer", arguments: GGMLType.allCases)
    func table(type: GGMLType) {
        let traits = type.traits
        #expect(traits.type == type, "traits for \(type) report \(traits.type)")
        #expect(traits.quantizeRow != nil, "\(type) has no quantizer")
    }

    @Test("quantize then dequantize through the table keeps values exactly representable in the type",
          arguments: GGMLType.allCases)
    func exactValuesRoundTrip(type: GGMLType) throws {
        // Small integers times a power of two survive every format when the scale comes out exact:
        // Q4_0 gets -8/4...7/4 (d = -2 / -8), Q4_1 gets 0...15/4 (d = 3.75 / 15), Q8_0 gets -127/64...121/64 per block.
        let n = 64
        var x = [Float](repeating: 0, count: n)
        for i in 0..<n {
            switch type {
            case .q4_1: x[i] = Float(i % 16) / 4
            case .q8_0: x[i] = Float((i % 32) * 8 - 127) / 64
            default: x[i] = Float((i % 16) - 8) / 4
            }
        }
        let bytes = try #require(type.rowSize(n))
        var q = [UInt8](repeating: 0, count: bytes)
        var y = [Float](repeating: .nan, count: n)
        let quantize = try #require(type.traits.quantizeRow)
        x.withUnsafeBufferPointer { xs in q.withUnsafeMutableBytes { quantize(xs.baseAddress!, $0.baseAddress!, n) } }
        q.withUnsafeBytes { qs in y.withUnsafeMutableBufferPointer { type.traits.dequantizeRow(qs.baseAddress!, $0.baseAddress!, n) } }
        let diffs = (0..<n).filter { x[$0] != y[$0] }
        #expect(diffs.isEmpty, "\(type): \(diffs.count) values changed, first at \(diffs.first ?? -1): \(diffs.first.map { "\(x[$0]) -> \(y[$0])" } ?? "")")
    }
}
