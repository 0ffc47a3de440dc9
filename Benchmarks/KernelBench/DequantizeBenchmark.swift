import Foundation
import GGUF
import Tensors

/// `KernelBench dequantize`: dequantization throughput per tensor type, SIMD kernel and scalar reference.
///
/// Options: `--runs N` (default 21, the median is reported), `--elements N` (default 576 × 1536, one
/// SmolLM2 FFN matrix; rounded down to a multiple of 32), `--types q4_0,q8_0` (default all).
enum DequantizeBenchmark {
    static func run(_ options: inout BenchOptions) throws -> [String: Any] {
        let runs = try options.int("runs", default: 21)
        let elements = try options.int("elements", default: 576 * 1536) / 32 * 32
        guard elements > 0 else { throw BenchError.usage("--elements must be at least 32") }
        var types = GGMLType.allCases
        if let list = options.string("types") {
            types = try list.split(separator: ",").map { name in
                guard let t = GGMLType(name: String(name)) else { throw BenchError.usage("unknown type '\(name)'") }
                return t
            }
        }

        // realistic input: the synthetic data of ggml's test-quantize-fns, quantized with each type's own quantizer
        let source = (0..<elements).map { Float(0.1 + Double(2 * cos(Float($0)))) }
        let output = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        defer { output.deallocate() }

        var results: [[String: Any]] = []
        for type in types {
            guard let bytes = type.rowSize(elements), let quantize = type.traits.quantizeRow else { continue }
            let packed = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { packed.deallocate() }
            source.withUnsafeBufferPointer { quantize($0.baseAddress!, packed, elements) }
            let traits = type.traits
            let simd = Bench.median(Bench.measure(runs: runs) { traits.dequantizeRow(packed, output, elements) })
            let reference = Bench.median(Bench.measure(runs: max(3, runs / 4)) {
                traits.dequantizeRowReference(packed, output, elements)
            })
            results.append([
                "type": type.name,
                "elements": elements,
                "source_bytes": bytes,
                "median_ns": Bench.round(simd, 0),
                "ns_per_element": Bench.round(simd / Double(elements), 4),
                "source_gb_per_s": Bench.round(Double(bytes) / simd),
                "output_gb_per_s": Bench.round(Double(elements * 4) / simd),
                "reference_ns_per_element": Bench.round(reference / Double(elements), 4),
                "speedup_over_reference": Bench.round(reference / simd, 2),
            ])
        }
        return ["runs": runs, "results": results]
    }
}
