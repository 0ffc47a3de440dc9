import GGUF
import Tensors

/// The weights of one transformer block, in place in the model file.
struct LlamaBlockWeights: @unchecked Sendable {
    /// `blk.N.attn_norm.weight` (embedding_length)
    let attnNorm: UnsafePointer<Float>
    /// `blk.N.attn_q.weight` (embedding_length → head_count·head_dim)
    let attnQ: WeightMatrix
    /// `blk.N.attn_k.weight` (embedding_length → kv_dim)
    let attnK: WeightMatrix
    /// `blk.N.attn_v.weight` (embedding_length → kv_dim)
    let attnV: WeightMatrix
    /// `blk.N.attn_output.weight` (head_count·head_dim → embedding_length)
    let attnOutput: WeightMatrix
    /// `blk.N.ffn_norm.weight` (embedding_length)
    let ffnNorm: UnsafePointer<Float>
    /// `blk.N.ffn_gate.weight` (embedding_length → feed_forward_length)
    let ffnGate: WeightMatrix
    /// `blk.N.ffn_up.weight` (embedding_length → feed_forward_length)
    let ffnUp: WeightMatrix
    /// `blk.N.ffn_down.weight` (feed_forward_length → embedding_length)
    let ffnDown: WeightMatrix
}

/// All weights of a llama model. Matrices point into the mmap; only norm vectors stored in another type than
/// F32 are converted (they are small).
struct LlamaWeights: @unchecked Sendable {
    /// `token_embd.weight` (vocabulary × embedding_length)
    let tokenEmbedding: WeightMatrix
    let blocks: [LlamaBlockWeights]
    /// `output_norm.weight` (embedding_length)
    let outputNorm: UnsafePointer<Float>
    /// `output.weight`, or `token_embd.weight` when the output head is tied.
    let output: WeightMatrix
    /// Converted norm vectors and interleaved Q4_0 copies, kept alive here.
    private let owned: OwnedFloats

    init(gguf: GGUFFile, config c: LlamaConfig) throws(ShimmyError) {
        let owned = OwnedFloats()
        func matrix(_ name: String, cols: Int, rows: Int) throws(ShimmyError) -> WeightMatrix {
            guard let info = gguf.tensor(named: name) else {
                throw ShimmyError(.serverError, "the model is missing the tensor \(name)")
            }
            guard info.dimensions == [cols, rows] else {
                throw ShimmyError(.serverError, "tensor \(name) has shape \(info.dimensions), expected [\(cols), \(rows)]")
            }
            let data = gguf.tensorData(info)
            guard let base = data.baseAddress else {
                throw ShimmyError(.serverError, "tensor \(name) has no data")
            }
            let m = WeightMatrix(type: info.type, rows: rows, cols: cols, data: base)
            // Q4_0: the VNNI mat-vec reads an 8-row interleaved copy (see Q4_0Interleave), made here
            if Q4_0Interleave.isUsed, let withCopy = Q4_0Interleave.withCopy(m) {
                owned.keep(withCopy.copy)
                return withCopy.matrix
            }
            return m
        }
        func vector(_ name: String, count: Int) throws(ShimmyError) -> UnsafePointer<Float> {
            guard let info = gguf.tensor(named: name) else {
                throw ShimmyError(.serverError, "the model is missing the tensor \(name)")
            }
            guard info.elementCount == count, info.dimensions.count == 1 else {
                throw ShimmyError(.serverError, "tensor \(name) has shape \(info.dimensions), expected [\(count)]")
            }
            let data = gguf.tensorData(info)
            guard let base = data.baseAddress else {
                throw ShimmyError(.serverError, "tensor \(name) has no data")
            }
            if info.type == .f32 {
                return base.assumingMemoryBound(to: Float.self)
            }
            let values = owned.allocate(count)
            info.type.traits.dequantizeRow(base, values, count)
            return UnsafePointer(values)
        }
        let e = c.embeddingLength, q = c.queryDimension, kv = c.kvDimension, ff = c.feedForwardLength
        tokenEmbedding = try matrix("token_embd.weight", cols: e, rows: c.vocabularySize)
        var blocks: [LlamaBlockWeights] = []
        for l in 0..<c.blockCount {
            let p = "blk.\(l)."
            blocks.append(LlamaBlockWeights(
                attnNorm: try vector(p + "attn_norm.weight", count: e),
                attnQ: try matrix(p + "attn_q.weight", cols: e, rows: q),
                attnK: try matrix(p + "attn_k.weight", cols: e, rows: kv),
                attnV: try matrix(p + "attn_v.weight", cols: e, rows: kv),
                attnOutput: try matrix(p + "attn_output.weight", cols: q, rows: e),
                ffnNorm: try vector(p + "ffn_norm.weight", count: e),
                ffnGate: try matrix(p + "ffn_gate.weight", cols: e, rows: ff),
                ffnUp: try matrix(p + "ffn_up.weight", cols: e, rows: ff),
                ffnDown: try matrix(p + "ffn_down.weight", cols: ff, rows: e)))
        }
        self.blocks = blocks
        outputNorm = try vector("output_norm.weight", count: e)
        if gguf.tensor(named: "output.weight") != nil {
            output = try matrix("output.weight", cols: e, rows: c.vocabularySize)
        } else {
            output = tokenEmbedding
        }
        self.owned = owned
    }
}

/// Buffers that live as long as the weights that point into them.
final class OwnedFloats: @unchecked Sendable {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var raw: [UnsafeMutableRawPointer] = []
    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        p.initialize(repeating: 0, count: count)
        buffers.append(p)
        return p
    }
    /// Takes over `p` (allocated elsewhere) to deallocate it with the rest.
    func keep(_ p: UnsafeMutableRawPointer) { raw.append(p) }
    deinit {
        buffers.forEach { $0.deallocate() }
        raw.forEach { $0.deallocate() }
    }
}
