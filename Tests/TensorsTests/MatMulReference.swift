import GGUF
import ShimmyTestSupport
@testable import Tensors


/// Weight bytes of a given type with realistic scales, plus the exact values they stand for.
struct TestWeights {
    let type: GGMLType
    let rows: Int
    let cols: Int
    var bytes: [UInt8]
    var values: [Double]

    init(type: GGMLType, rows: Int, cols: Int, seed: UInt64) {
        self.type = type
        self.rows = rows
        self.cols = cols
        var rng = SplitMix64(state: seed)
        let rowBytes = type.rowSize(cols) ?? 0
        bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        values = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for i in 0..<(cols / type.blockSize) {
                let at = r * rowBytes + i * type.typeSize
                let v = r * cols + i * type.blockSize
                switch type {
                case .f32:
                    let f = rng.float() * 2
                    put(f.bitPattern, at)
                    values[v] = Double(f)
                case .f16:
                    let h = Float16(rng.float() * 2)
                    put(h.bitPattern, at)
                    values[v] = Double(Float(h))
                case .bf16:
                    let bits = UInt16(truncatingIfNeeded: (rng.float() * 2).bitPattern >> 16)
                    put(bits, at)
                    values[v] = Double(Float(bitPattern: UInt32(bits) << 16))
                case .q4_0, .q4_1, .q8_0:
                    let d = Float16(rng.float() * 0.05)
                    put(d.bitPattern, at)
                    let m = Float16(rng.float() * 0.2)
                    if type == .q4_1 { put(m.bitPattern, at + 2) }
                    let qs = at + (type == .q4_1 ? 4 : 2)
                    for j in 0..<(type == .q8_0 ? 32 : 16) { bytes[qs + j] = rng.byte() }
                    for j in 0..<32 {
                        let q: Double
                        switch type {
                        case .q8_0:
                            q = Double(Int8(bitPattern: bytes[qs + j]))
                        default:
                            let byte = bytes[qs + j % 16]
                            let nibble = Double(j < 16 ? byte & 0x0F : byte >> 4)
                            q = type == .q4_0 ? nibble - 8 : nibble
                        }
                        values[v + j] = Double(Float(d)) * q + (type == .q4_1 ? Double(Float(m)) : 0)
                    }
                }
            }
        }
    }

    private mutating func put<T: FixedWidthInteger>(_ value: T, _ at: Int) {
        withUnsafeBytes(of: value.littleEndian) { for (k, b) in $0.enumerated() { bytes[at + k] = b } }
    }
}

/// The reference product in Double: activations rounded or quantized the llama.cpp way (scalar code written apart
/// from the kernels), weights dequantized exactly. For Q4_1 the weights' `m · Σx` term uses llama.cpp's stored
/// `s = fp16(d · Σq)`, as the real kernel does.
func referenceMatmul(_ w: TestWeights, _ x: [Float], batch: Int) -> [Double] {
    var out = [Double](repeating: 0, count: batch * w.rows)
    for b in 0..<batch {
        let row = Array(x[(b * w.cols)..<((b + 1) * w.cols)])
        var xq = [Double](repeating: 0, count: w.cols)   // the activation values the kernel multiplies by
        var sums = [Double](repeating: 0, count: w.cols / 32)
        switch w.type {
        case .f32: for i in 0..<w.cols { xq[i] = Double(row[i]) }
        case .f16: for i in 0..<w.cols { xq[i] = Double(Float(Float16(row[i]))) }
        case .bf16:
            for i in 0..<w.cols {
                let u = row[i].bitPattern
                let rounded = (u + 0x7fff + ((u >> 16) & 1)) >> 16
                xq[i] = Double(Float(bitPattern: rounded << 16))
            }
        case .q4_0, .q4_1, .q8_0:
            for blk in 0..<(w.cols / 32) {
                let part = row[(blk * 32)..<(blk * 32 + 32)]
                let amax = part.map { abs($0) }.max() ?? 0
                let d = amax / 127
                let id: Float = amax == 0 ? 0 : 127 / amax
                var qsum = 0
                for j in 0..<32 {
                    let q = (part[blk * 32 + j] * id).rounded(.toNearestOrEven)
                    qsum += Int(q)
                    xq[blk * 32 + j] = Double(Float(Float16(d))) * Double(q)
                }
                sums[blk] = Double(Float(Float16(d * Float(qsum))))
            }
        }
        for r in 0..<w.rows {
            var acc = 0.0
            for i in 0..<w.cols {
                var wv = w.values[r * w.cols + i]
                if w.type == .q4_1 {
                    // Split q4_1 into d·q (times the quantized x) and m (times s per block, added below).
                    wv -= mOf(w, r, i / 32)
                }
                acc += wv * xq[i]
            }
            if w.type == .q4_1 {
                for blk in 0..<(w.cols / 32) { acc += mOf(w, r, blk) * sums[blk] }
            }
            out[b * w.rows + r] = acc
        }
    }
    return out
}

/// The Q4_1 block minimum `m` of row `r`, block `blk`.
private func mOf(_ w: TestWeights, _ r: Int, _ blk: Int) -> Double {
    let at = r * (w.type.rowSize(w.cols) ?? 0) + blk * 20 + 2
    let bits = UInt16(w.bytes[at]) | UInt16(w.bytes[at + 1]) << 8
    return Double(Float(Float16(bitPattern: bits)))
}

/// Runs `context.matmul` on test weights and activations; with `interleaved`, the matrix carries its Q4_0
/// interleaved copy.
func runMatmul(_ context: KernelContext, _ w: TestWeights, _ x: [Float], batch: Int,
               interleaved: Bool = false) -> [Float] {
    var out = [Float](repeating: .nan, count: batch * w.rows)
    w.bytes.withUnsafeBytes { raw in
        var matrix = WeightMatrix(type: w.type, rows: w.rows, cols: w.cols, data: raw.baseAddress!)
        var copy: UnsafeMutableRawPointer?
        defer { copy?.deallocate() }
        if interleaved, let withCopy = Q4_0Interleave.withCopy(matrix) {
            (matrix, copy) = withCopy
        }
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { context.matmul($0.baseAddress!, xs.baseAddress!, matrix, batch: batch) }
        }
    }
    return out
}

func randomActivations(count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(state: seed)
    return (0..<count).map { _ in rng.float() * 3 }
}
