// Matrix-vector and matrix-matrix benchmarks over the SmolLM2-135M shapes, at 1 and 2 threads.
//
//   swift run -c release --scratch-path .build-kernels KernelBench matvec [--types q4_0,f16] [--runs 51]
//   swift run -c release --scratch-path .build-kernels KernelBench gemm [--batch 64]
//   swift run -c release --scratch-path .build-kernels KernelBench dot
import Foundation
import GGUF
import Tensors

enum MatMulBenchmark {
    /// (rows, cols) as WeightMatrix counts them: out features × in features.
    static let shapes: [(name: String, rows: Int, cols: Int)] = [
        ("576x576 (q, o)", 576, 576), ("192x576 (k, v)", 192, 576), ("1536x576 (gate, up)", 1536, 576),
        ("576x1536 (down)", 576, 1536), ("49152x576 (output)", 49152, 576),
    ]

    static func types(_ options: BenchOptions) throws -> [GGMLType] {
        let names = options.string("types")?.split(separator: ",").map(String.init) ?? ["q4_0", "q4_1", "q8_0", "f16"]
        return try names.map { name in
            guard let type = GGMLType(name: name) else { throw BenchError.usage("unknown type '\(name)'") }
            return type
        }
    }

    /// Random weights with realistic block scales (random scale bytes would make infinities).
    static func weights(_ type: GGMLType, rows: Int, cols: Int) -> UnsafeMutableRawPointer {
        let rowBytes = type.rowSize(cols) ?? 0
        let total = rows * rowBytes
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 64)
        var state: UInt64 = 0x1234_5678
        for i in 0..<total {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data.storeBytes(of: UInt8(truncatingIfNeeded: state >> 33), toByteOffset: i, as: UInt8.self)
        }
        switch type {
        case .f16:
            for i in 0..<(total / 2) {
                let bits = data.load(fromByteOffset: i * 2, as: UInt16.self)
                data.storeBytes(of: Float16(Float(bits) / 65536 - 0.5).bitPattern, toByteOffset: i * 2, as: UInt16.self)
            }
        case .bf16:
            for i in 0..<(total / 2) { data.storeBytes(of: UInt16(0x3C00 | (i & 0xFF)), toByteOffset: i * 2, as: UInt16.self) }
        case .f32:
            for i in 0..<(total / 4) { data.storeBytes(of: Float(i % 7) * 0.01, toByteOffset: i * 4, as: Float.self) }
        case .q4_0, .q4_1, .q8_0:
            for b in 0..<(total / type.typeSize) {
                data.storeBytes(of: Float16(0.01).bitPattern, toByteOffset: b * type.typeSize, as: UInt16.self)
                if type == .q4_1 {
                    data.storeBytes(of: Float16(-0.05).bitPattern, toByteOffset: b * type.typeSize + 2, as: UInt16.self)
                }
            }
        }
        return data
    }

    /// Times `matmul` for every type, shape and thread count (1 and the pool's), at `batch` activation rows.
    static func measure(_ options: BenchOptions, batch: Int, runs: Int,
                        shapes: [(name: String, rows: Int, cols: Int)]) throws -> [[String: Any]] {
        var results: [[String: Any]] = []
        let pool = ThreadPool.shared
        let threadCounts = Array(Set([1, pool.threadCount])).sorted()
        for type in try types(options) {
            for shape in shapes {
                let w = weights(type, rows: shape.rows, cols: shape.cols)
                defer { w.deallocate() }
                var matrix = WeightMatrix(type: type, rows: shape.rows, cols: shape.cols, data: w)
                // as the engine loads it: Q4_0 with its interleaved copy where the mat-vec reads one
                var copy: UnsafeMutableRawPointer?
                defer { copy?.deallocate() }
                if Q4_0Interleave.isUsed, let withCopy = Q4_0Interleave.withCopy(matrix) {
                    (matrix, copy) = withCopy
                }
                var x = [Float](repeating: 0, count: batch * shape.cols)
                for i in x.indices { x[i] = Float((i * 7919) % 1000) / 500 - 1 }
                var out = [Float](repeating: 0, count: batch * shape.rows)
                let bytes = Double(shape.rows * (type.rowSize(shape.cols) ?? 0))
                for threads in threadCounts {
                    let context = KernelContext(pool: pool, threads: threads)
                    let samples = x.withUnsafeBufferPointer { xs in
                        out.withUnsafeMutableBufferPointer { os in
                            Bench.measure(runs: runs, warmup: 3) {
                                context.matmul(os.baseAddress!, xs.baseAddress!, matrix, batch: batch)
                            }
                        }
                    }
                    let ns = Bench.median(samples)
                    var row: [String: Any] = [
                        "type": type.name, "shape": shape.name, "threads": threads, "batch": batch,
                        "us": Bench.round(ns / 1000, 1), "weight_gbps": Bench.round(bytes / ns, 2),
                    ]
                    if batch > 1 {
                        row["gflops"] = Bench.round(2 * Double(batch * shape.rows * shape.cols) / ns, 1)
                    }
                    results.append(row)
                }
            }
        }
        return results
    }

    static func matvec(_ options: inout BenchOptions) throws -> [String: Any] {
        let runs = try options.int("runs", default: 51)
        return ["results": try measure(options, batch: 1, runs: runs, shapes: shapes)]
    }

    static func gemm(_ options: inout BenchOptions) throws -> [String: Any] {
        let batch = try options.int("batch", default: 64)
        let runs = try options.int("runs", default: 7)
        return ["results": try measure(options, batch: batch, runs: runs, shapes: Array(shapes.prefix(4)))]
    }

    static func dot(_ options: inout BenchOptions) throws -> [String: Any] {
        let runs = try options.int("runs", default: 201)
        return ["results": try measure(options, batch: 1, runs: runs, shapes: [("1536x576 (gate, up)", 1536, 576)])]
    }
}
