// Attention benchmarks over the SmolLM2-135M head shape (9 query heads of 64 in 3 KV groups, half-precision cache
// rows of 64 per KV head, as the engine keeps them), one thread:
//
//   swift run -c release --scratch-path .build-kernels KernelBench attention [--counts 16,64,128,512,2048]
//       [--modes decode,decode3,prompt] [--layers 1] [--runs 51]
//
// "decode": one query per head (a generated token) over `count` cached positions, the nine heads of one layer one
// at a time; "decode3": the same three heads of a KV group at once, as the engine runs them; "prompt": the last
// query of a batch (count positions, three heads sharing each key and value), nine heads. With --layers L, each run
// takes the next of L layers' caches, as generation does (with 30, SmolLM2's, the cache comes from memory).
import Foundation
import Tensors

enum AttentionBenchmark {
    static let headDim = 64, heads = 9, kvHeads = 3

    static func run(_ options: inout BenchOptions) throws -> [String: Any] {
        let runs = try options.int("runs", default: 51)
        let counts = try (options.string("counts") ?? "16,64,128,512,2048").split(separator: ",").map { text in
            guard let n = Int(text), n > 0 else { throw BenchError.usage("--counts needs positive integers, got '\(text)'") }
            return n
        }
        let modes = (options.string("modes") ?? "decode,decode3,prompt").split(separator: ",").map(String.init)
        for mode in modes where !["decode", "decode3", "prompt"].contains(mode) { throw BenchError.usage("unknown mode '\(mode)'") }
        let layers = try options.int("layers", default: 1)
        let kvDim = kvHeads * headDim, qDim = heads * headDim, group = heads / kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        var results: [[String: Any]] = []
        for count in counts {
            // a cache of `count` positions with values in a softmax-realistic range, and one query row
            var state: UInt64 = 0x9E37_79B9
            func next() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(truncatingIfNeeded: state >> 40) & 0xFFFF) / 32768 - 1
            }
            let keys = (0..<(layers * count * kvDim)).map { _ in Float16(next() * 2) }
            let values = (0..<(layers * count * kvDim)).map { _ in Float16(next()) }
            var layer = 0
            let query = (0..<qDim).map { _ in next() * 2 }
            var out = [Float](repeating: 0, count: qDim)
            let scratchCount = Ops.attentionScratchCount(count: count, dimension: headDim)
            var scratch = [Float](repeating: 0, count: 3 * scratchCount)
            for mode in modes {
                let samples = keys.withUnsafeBufferPointer { k in
                    values.withUnsafeBufferPointer { v in
                        query.withUnsafeBufferPointer { q in
                            out.withUnsafeMutableBufferPointer { o in
                                scratch.withUnsafeMutableBufferPointer { s in
                                    let (q, o, s) = (q.baseAddress!, o.baseAddress!, s.baseAddress!)
                                    return Bench.measure(runs: runs, warmup: 3) {
                                        layer = (layer + 1) % layers
                                        // (layer, kv_head, position, head_dim)
                                        let k = k.baseAddress! + layer * count * kvDim
                                        let v = v.baseAddress! + layer * count * kvDim
                                        let span = count * headDim  // one KV head's cache
                                        for g in 0..<kvHeads {
                                            let first = g * group
                                            if mode != "decode" {
                                                Ops.attentionExact3(o + first * headDim, query: q + first * headDim,
                                                                    keys: k + g * span, values: v + g * span,
                                                                    stride: headDim, count: count, dimension: headDim,
                                                                    scale: scale, oneQuery: mode == "decode3",
                                                                    scratch: s)
                                            } else {
                                                for h in first..<(first + group) {
                                                    Ops.attentionExact(o + h * headDim, query: q + h * headDim,
                                                                       keys: k + g * span, values: v + g * span,
                                                                       stride: headDim, count: count, dimension: headDim,
                                                                       scale: scale, oneQuery: true, scratch: s)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                let ns = Bench.median(samples)
                results.append([
                    "mode": mode, "count": count, "heads": heads, "layers": layers, "us": Bench.round(ns / 1000, 2),
                    "ns_per_head_position": Bench.round(ns / Double(heads * count), 2),
                ])
            }
        }
        return ["results": results]
    }
}
