import Foundation
import GGUF
import Testing
@testable import Tensors

/// `generate_data` of llama.cpp's tests/test-quantize-fns.cpp: `0.1 + amplitude * cosf(i + offset)`.
func syntheticData(offset: Float, count: Int, amplitude: Float = 2) -> [Float] {
    (0..<count).map { Float(0.1 + Double(amplitude * cos(Float($0) + offset))) }
}

/// `array_rmse` of test-quantize-fns.cpp (it divides the root of the sum by n).
func arrayRMSE(_ a: [Float], _ b: [Float]) -> Float {
    var sum = 0.0
    for i in a.indices {
        let diff = Double(a[i]) - Double(b[i])
        sum += diff * diff
    }
    return Float(sum.squareRoot()) / Float(a.count)
}

/// Quantizes `x` to `type` through the traits table and dequantizes it back.
func roundTrip(_ x: [Float], _ type: GGMLType,
               quantize: (@Sendable (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void)? = nil) throws -> (bytes: [UInt8], values: [Float]) {
    let n = x.count
    var q = [UInt8](repeating: 0, count: try #require(type.rowSize(n)))
    let quantizer = try #require(quantize ?? type.traits.quantizeRow)
    x.withUnsafeBufferPointer { xs in q.withUnsafeMutableBytes { quantizer(xs.baseAddress!, $0.baseAddress!, n) } }
    var y = [Float](repeating: .nan, count: n)
    q.withUnsafeBytes { qs in y.withUnsafeMutableBufferPointer { type.traits.dequantizeRowReference(qs.baseAddress!, $0.baseAddress!, n) } }
    return (q, y)
}

@Suite("Quantize")
struct QuantizeTests {
    /// test-quantize-fns.cpp: MAX_QUANTIZATION_TOTAL_ERROR for the types shimmy writes.
    static let maxTotalError: Float = 0.002

    @Test("quantize -> dequantize error stays under test-quantize-fns' MAX_QUANTIZATION_TOTAL_ERROR",
          arguments: [GGMLType.q4_0, .q4_1, .q8_0, .f16, .bf16])
    func totalError(type: GGMLType) throws {
        let x = syntheticData(offset: 0, count: 32 * 128)
        let (_, y) = try roundTrip(x, type)
        let error = arrayRMSE(x, y)
        print("\(type) absolute quantization error: \(error)")
        #expect(error < Self.maxTotalError, "\(type): error \(error) >= \(Self.maxTotalError)")
        #expect(error > 0 || type == .f32, "\(type): a lossy format reproduced cosine data exactly, suspicious")
    }

    @Test("the F16 quantizer equals ggml's software conversion byte for byte")
    func f16MatchesReference() throws {
        var x = syntheticData(offset: 0.5, count: 4096, amplitude: 70_000)
        x += [0, -0, .infinity, -.infinity, .nan, 1e-8, -6.0e-8, 65_520, -65_519]
        let fast = try roundTrip(x, .f16).bytes
        let reference = try roundTrip(x, .f16, quantize: Float16Rows.quantizeRowReference).bytes
        let first = fast.indices.first { fast[$0] != reference[$0] }
        #expect(first == nil, "first differing byte \(String(describing: first))")
    }

    @Test("Q4_0 keeps the sign of the largest magnitude in d, as ggml does")
    func q4_0SignedScale() throws {
        var x = [Float](repeating: 0.25, count: 32)
        x[5] = 8   // largest magnitude is positive: d = 8 / -8 = -1, and 8 maps to nibble 0
        let (bytes, y) = try roundTrip(x, .q4_0)
        let d = Float16Conversion.float(fromBits: UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        #expect(d == -1, "d = \(d)")
        #expect(bytes[2 + 5] & 0x0F == 0, "nibble of the max: \(bytes[2 + 5] & 0x0F)")
        #expect(y[5] == 8, "max comes back as \(y[5])")
    }

    @Test("Q8_0 rounds half away from zero like roundf")
    func q8_0Rounding() throws {
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127      // d = 1
        x[1] = 2.5      // roundf -> 3 (not 2 as ties-to-even would give)
        x[2] = -2.5     // -3
        x[3] = 0.49999997
        let (bytes, _) = try roundTrip(x, .q8_0)
        let q = bytes[2...5].map { Int8(bitPattern: $0) }
        #expect(q == [127, 3, -3, 0], "q = \(q)")
    }

    @Test("all-zero blocks give d = 0 and zero weights", arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func zeros(type: GGMLType) throws {
        let (_, y) = try roundTrip([Float](repeating: 0, count: 64), type)
        #expect(y.allSatisfy { $0 == 0 }, "\(type): \(y.prefix(4))")
    }

    @Test("NaN and infinity in the input do not trap (C wraps where Swift would trap)",
          arguments: [GGMLType.q4_0, .q4_1, .q8_0, .f16, .bf16])
    func nonFiniteInput(type: GGMLType) throws {
        var x = syntheticData(offset: 1, count: 96)
        x[3] = .nan
        x[40] = .infinity
        x[70] = -.infinity
        x[71] = 3e38
        let (bytes, _) = try roundTrip(x, type)
        #expect(bytes.count == type.rowSize(96))
    }
}
