import Foundation
import GGUF
import Tensors

/// `KernelBench dequantize`: dequantization throughput per tensor type (SIMD kernel and scalar reference),
/// plus the quantizer's, for each row size asked for.
///
/// Options: `--runs N` (default 21, the median is reported), `--elements N[,N...]` (default 73728,884736:
/// 576 × 128, whose floats stay in L2, and 576 × 1536, one SmolLM2 FFN matrix, whose 3.5 MB of floats go
/// to memory; rounded down to a multiple of 32), `--types q4_0,q8_0` (default all).
enum DequantizeBenchmark {
    static func run(_ options: inout BenchOptions) throws -> [String: Any] {
        let runs = try options.int("runs", default: 21)
        let sizes = try (options.string("elements") ?? "73728,884736").split(separator: ",").map { text in
            guard let n = Int(text), n >= 32 else { throw BenchError.usage("--elements needs sizes of at least 32, got '\(text)'") }
            return n / 32 * 32
        }
        var types = GGMLType.allCases
        if let list = options.string("types") {
            types = try list.split(separator: ",").map { name in
                guard let t = GGMLType(name: String(name)) else { throw BenchError.usage("unknown type '\(name)'") }
                return t
            }
        }
        var results: [[String: Any]] = []
        for elements in sizes {
            for type in types {
                if let result = measure(type, elements: elements, runs: runs) { results.append(result) }
            }
        }
        return ["runs": runs, "results": results]
    }

    /// Times one type at one size; nil when the type has no quantizer to make its input.
    static func measure(_ type: GGMLType, elements: Int, runs: Int) -> [String: Any]? {
        let traits = type.traits
        guard let bytes = type.rowSize(elements), let quantize = traits.quantizeRow else { return nil }
        // realistic input: the synthetic data of ggml's test-quantize-fns, quantized with the type's own quantizer
        let source = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: elements)
        let packed = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { source.deallocate(); output.deallocate(); packed.deallocate() }
        for i in 0..<elements { source[i] = Float(0.1 + Double(2 * cos(Float(i)))) }
        quantize(source, packed, elements)

        let simd = Bench.median(Bench.measure(runs: runs) { traits.dequantizeRow(packed, output, elements) })
        let fewer = max(3, runs / 4)
        let reference = Bench.median(Bench.measure(runs: fewer) { traits.dequantizeRowReference(packed, output, elements) })
        let quantizeTime = Bench.median(Bench.measure(runs: fewer) { quantize(source, packed, elements) })
        let n = Double(elements)
        return [
            "type": type.name,
            "elements": elements,
            "source_bytes": bytes,
            "median_ns": Bench.round(simd, 0),
            "ns_per_element": Bench.round(simd / n, 4),
            "source_gb_per_s": Bench.round(Double(bytes) / simd),
            "output_gb_per_s": Bench.round(n * 4 / simd),
            "reference_ns_per_element": Bench.round(reference / n, 4),
            "speedup_over_reference": Bench.round(reference / simd, 2),
            "quantize_ns_per_element": Bench.round(quantizeTime / n, 4),
        ]
    }
}
