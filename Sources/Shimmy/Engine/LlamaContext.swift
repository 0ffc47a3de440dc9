import Foundation
import Synchronization
import Tensors

/// Per-conversation state of a model: the KV cache, activation buffers and the compute context.
///
/// A context belongs to one generation at a time; the weights it reads are shared. Tokens are appended with
/// `evaluate`, which returns the logits asked for. A second user while one is at work (another thread's
/// `evaluate`, `truncate` or generation) gets `.invalidRequest` rather than a cache both would write.
public final class LlamaContext: @unchecked Sendable {
    /// Which positions of an evaluated batch get logits.
    public enum LogitRows: Sendable, Equatable {
        /// Only the last token's (generation).
        case last
        /// These batch indices (perplexity scores the second half of a chunk).
        case range(Range<Int>)
        /// None (prefilling a prompt whose logits are not needed).
        case none
    }

    /// What `evaluate` returns for each wanted row.
    public enum Output: Sendable, Equatable {
        /// The output head's scores, `vocabularySize` per row.
        case logits
        /// The final hidden state the output head reads (after the output norm), `embeddingLength` per row:
        /// what llama.cpp returns as a causal model's embeddings.
        case hiddenStates
    }

    let config: LlamaConfig
    let weights: LlamaWeights
    /// Most tokens the cache holds.
    public let capacity: Int
    /// The tokens now in the cache, in order.
    public private(set) var tokens: [TokenID] = []
    /// Tokens processed per forward pass at most; longer inputs are split.
    public let maxBatch: Int
    let kernels: KernelContext

    // (layer, kv_head, capacity, head_dim) in half precision: each KV head's positions contiguous, so that its
    // attention reads whole cache lines in order (llama.cpp keeps (layer, capacity, kv_dim); the values are the
    // same, the order in which they are summed does not depend on the layout)
    private let keyCache: UnsafeMutablePointer<Float16>
    private let valueCache: UnsafeMutablePointer<Float16>
    // activations of one batch: (batch, embedding_length) etc.
    private let x, xb, xb2, q, k, v, hb, hb2, ropeTable: UnsafeMutablePointer<Float>
    /// Whether a user holds the context (`claim`).
    private let inUse = Atomic<Bool>(false)

    /// Bytes of the KV cache for `capacity` tokens (keys and values in half precision); nil when that overflows.
    static func cacheBytes(config c: LlamaConfig, capacity: Int) -> Int? {
        var bytes = 2 * MemoryLayout<Float16>.stride
        for factor in [c.blockCount, capacity, c.kvDimension] {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            bytes = product
        }
        return bytes
    }

    /// `1.5 GiB`.
    private static func gibibytes(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }

    /// Throws `.invalidRequest` when a KV cache of `capacity` tokens could not fit in this machine's memory.
    static func checkCapacity(_ capacity: Int, config: LlamaConfig) throws(ShimmyError) {
        guard capacity > 0 else { throw ShimmyError(.invalidRequest, "the context size must be positive") }
        let memory = ProcessInfo.processInfo.physicalMemory
        guard let bytes = cacheBytes(config: config, capacity: capacity), UInt64(bytes) <= memory else {
            let needed = cacheBytes(config: config, capacity: capacity).map { gibibytes(UInt64($0)) } ?? "over 2^63 bytes"
            throw ShimmyError(.invalidRequest, "the context size \(capacity) is too large for this machine",
                              details: "its KV cache needs \(needed); the machine has \(gibibytes(memory)) of memory")
        }
    }

    /// Throws `.invalidRequest` when a cache of `capacity` tokens cannot fit in memory, `.serverError` when the
    /// allocation fails.
    init(config: LlamaConfig, weights: LlamaWeights, capacity: Int, maxBatch: Int = 512, kernels: KernelContext)
        throws(ShimmyError)
    {
        self.config = config
        self.weights = weights
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.kernels = kernels
        let c = config, b = maxBatch
        try Self.checkCapacity(capacity, config: c)
        // Zeroed by calloc: a block this large comes from the kernel already zero, so a page costs nothing until
        // a batch that long first writes it (writing 12 MB of zeros cost ~7 ms of every cold start).
        let cacheCount = c.blockCount * capacity * c.kvDimension
        let halfCounts = [cacheCount, cacheCount]
        let floatCounts = [b * c.embeddingLength, b * max(c.embeddingLength, c.queryDimension),
                           b * max(c.embeddingLength, c.queryDimension), b * c.queryDimension, b * c.kvDimension,
                           b * c.kvDimension, b * c.feedForwardLength, b * c.feedForwardLength, b * c.ropeDimensionCount]
        let blocks = halfCounts.map { calloc($0, MemoryLayout<Float16>.stride) }
            + floatCounts.map { calloc($0, MemoryLayout<Float>.stride) }
        guard blocks.allSatisfy({ $0 != nil }) else {
            for block in blocks { free(block) }
            let bytes = Self.cacheBytes(config: c, capacity: capacity) ?? 0
            throw ShimmyError(.serverError, "out of memory for a context of \(capacity) tokens",
                              details: "its KV cache needs \(Self.gibibytes(UInt64(bytes)))")
        }
        let halves = blocks[..<2].compactMap { $0?.bindMemory(to: Float16.self, capacity: cacheCount) }
        let floats = zip(blocks[2...], floatCounts).compactMap { $0?.bindMemory(to: Float.self, capacity: $1) }
        (keyCache, valueCache) = (halves[0], halves[1])
        (x, xb, xb2, q, k, v) = (floats[0], floats[1], floats[2], floats[3], floats[4], floats[5])
        (hb, hb2, ropeTable) = (floats[6], floats[7], floats[8])
    }

    deinit {
        for p in [x, xb, xb2, q, k, v, hb, hb2, ropeTable] { free(p) }
        free(keyCache)
        free(valueCache)
    }

    /// Takes the context for one user; throws `.invalidRequest` when another holds it. `release()` gives it back.
    func claim() throws(ShimmyError) {
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw ShimmyError(.invalidRequest, "the context is in use by another generation",
                              details: "a LlamaContext serves one generation at a time: make one per concurrent generation with makeContext()")
        }
    }

    func release() { inUse.store(false, ordering: .releasing) }

    /// Forgets every token after the first `count` (a new prompt that shares a prefix keeps it).
    public func truncate(to count: Int) throws(ShimmyError) {
        try claim()
        defer { release() }
        truncateHeld(to: count)
    }

    /// `truncate` by the context's holder.
    func truncateHeld(to count: Int) {
        if count < tokens.count { tokens.removeLast(tokens.count - max(0, count)) }
    }

    /// Appends `input` to the cache and returns the logits of the requested batch rows, `vocabularySize` each
    /// (or with `output: .hiddenStates` their final hidden states, `embeddingLength` each).
    /// Throws `.invalidRequest` when the tokens do not fit or an id is outside the vocabulary.
    public func evaluate(_ input: [TokenID], logits rows: LogitRows = .last, output: Output = .logits)
        throws(ShimmyError) -> [Float]
    {
        try claim()
        defer { release() }
        return try evaluateHeld(input, logits: rows, output: output)
    }

    /// `evaluate` by the context's holder. When `stop` is set it stops at the next layer: the cache then holds
    /// the batches of `maxBatch` tokens done, and the logits are meaningless.
    func evaluateHeld(_ input: [TokenID], logits rows: LogitRows, output: Output = .logits, stop: StopFlag? = nil)
        throws(ShimmyError) -> [Float]
    {
        guard tokens.count + input.count <= capacity else {
            throw ShimmyError(.invalidRequest, "the input does not fit in the context",
                              details: "\(tokens.count + input.count) tokens, context size \(capacity)")
        }
        if let bad = input.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
            throw ShimmyError(.invalidRequest, "token id \(bad) is outside the vocabulary (\(config.vocabularySize))")
        }
        let wanted: Range<Int>
        switch rows {
        case .last: wanted = max(0, input.count - 1)..<input.count
        case .range(let r): wanted = r.clamped(to: 0..<input.count)
        case .none: wanted = 0..<0
        }
        let width = output == .logits ? config.vocabularySize : config.embeddingLength
        var result = [Float](repeating: 0, count: wanted.count * width)
        var start = 0
        while start < input.count {
            let n = min(maxBatch, input.count - start)
            let batchRows = wanted.clamped(to: start..<(start + n))
            let done = result.withUnsafeMutableBufferPointer { out in
                let dst = out.baseAddress.map { $0 + (batchRows.lowerBound - wanted.lowerBound) * width }
                return forward(Array(input[start..<(start + n)]),
                               rows: (batchRows.lowerBound - start)..<(batchRows.upperBound - start), into: dst,
                               output: output, stop: stop)
            }
            if !done { break }
            start += n
        }
        return result
    }

    /// The forward pass over one batch of at most `maxBatch` tokens at positions `tokens.count...`.
    /// Writes the logits of batch rows `rows` to `logits` (rows.count × vocabulary), or their final hidden states
    /// (rows.count × embedding length) for `.hiddenStates`. Returns false, leaving the tokens out of the cache,
    /// when `stop` was set before a layer (a 512-token batch of a large model takes long).
    private func forward(_ batch: [TokenID], rows: Range<Int>, into logits: UnsafeMutablePointer<Float>?,
                         output: Output, stop: StopFlag?) -> Bool {
        let c = config, w = weights, n = batch.count, start = tokens.count
        let dim = c.embeddingLength, qDim = c.queryDimension, kvDim = c.kvDimension, ff = c.feedForwardLength
        let headDim = c.headDimension, ropeDims = c.ropeDimensionCount

        // token embeddings: x (batch, dim)
        let embd = w.tokenEmbedding, embdRowBytes = embd.type.rowSize(dim) ?? 0
        for (i, token) in batch.enumerated() {
            embd.type.traits.dequantizeRow(embd.data + Int(token) * embdRowBytes, x + i * dim, dim)
        }
        // rope angles for each position: (batch, rope_dims)
        for i in 0..<n {
            Ops.ropeTable(ropeTable + i * ropeDims, position: start + i, dimensions: ropeDims,
                          freqBase: c.ropeFreqBase, freqScale: c.ropeFreqScale)
        }

        for l in 0..<c.blockCount {
            if stop?.isSet == true { return false }
            let layer = w.blocks[l]
            let layerKeys = keyCache + l * capacity * kvDim, layerValues = valueCache + l * capacity * kvDim

            // attention rmsnorm: xb = attn_norm(x)
            kernels.forEachRow(n) { i in
                Ops.rmsnorm(xb + i * dim, x + i * dim, layer.attnNorm, count: dim, epsilon: c.rmsNormEpsilon)
            }
            // one token: its attention reads the layer's cached keys and values from memory (the weights streamed
            // through the cache since the last token); asked for now, they arrive during the projections (the
            // first 256 positions: 192 KB in SmolLM2, well within the L2 cache)
            if n == 1 {
                let bytes = min(start, 256) * headDim * 2
                for g in 0..<c.headCountKV {
                    Ops.prefetchLines(layerKeys + cacheOffset(kvHead: g, position: 0), bytes: bytes)
                    Ops.prefetchLines(layerValues + cacheOffset(kvHead: g, position: 0), bytes: bytes)
                }
            }
            // q, k, v projections: q (batch, q_dim), k and v (batch, kv_dim)
            kernels.matmul([q, k, v], xb, [layer.attnQ, layer.attnK, layer.attnV], batch: n)
            // rope on q and k, then k and v land in the cache rows start..<start+n
            kernels.forEachRow(n) { i in
                Ops.rope(q + i * qDim, heads: c.headCount, headDimension: headDim, ropeDimensions: ropeDims,
                         table: ropeTable + i * ropeDims)
                Ops.rope(k + i * kvDim, heads: c.headCountKV, headDimension: headDim, ropeDimensions: ropeDims,
                         table: ropeTable + i * ropeDims)
                for g in 0..<c.headCountKV {
                    let row = cacheOffset(kvHead: g, position: start + i), head = i * kvDim + g * headDim
                    Ops.toHalf(layerKeys + row, k + head, count: headDim)
                    Ops.toHalf(layerValues + row, v + head, count: headDim)
                }
            }
            // attention per (token, head) over positions 0...start+i: xb2 (batch, q_dim)
            attention(xb2, q, keys: layerKeys, values: layerValues, batch: n, start: start)
            // output projection and residual: x += attn_output(xb2)
            kernels.matmul(xb, xb2, layer.attnOutput, batch: n)
            Ops.add(x, xb, count: n * dim)

            // the last layer's feed-forward runs only for the rows whose logits are wanted (as in llama.cpp,
            // whose kernel choice, and so summation order, follows that row count): they move to the front
            var m = n
            if l == c.blockCount - 1 {
                let wanted = logits == nil ? 0..<0 : rows
                if wanted.lowerBound > 0 { memmove(x, x + wanted.lowerBound * dim, wanted.count * dim * 4) }
                m = wanted.count
                if m == 0 { break }
            }
            // ffn rmsnorm: xb = ffn_norm(x)
            kernels.forEachRow(m) { i in
                Ops.rmsnorm(xb + i * dim, x + i * dim, layer.ffnNorm, count: dim, epsilon: c.rmsNormEpsilon)
            }
            // SwiGLU: hb = silu(ffn_gate(xb)) * ffn_up(xb)  (batch, ff)
            kernels.matmul([hb, hb2], xb, [layer.ffnGate, layer.ffnUp], batch: m)
            // whole chunks of 16 values across the threads (the vector path, as one call would take them), the tail
            // after; one token's worth stays on this thread
            let chunks = m * ff / 16
            kernels.parallelFor(chunks, minimum: 512) { range in
                Ops.swiglu(hb + range.lowerBound * 16, hb2 + range.lowerBound * 16, count: range.count * 16)
            }
            Ops.swiglu(hb + chunks * 16, hb2 + chunks * 16, count: m * ff - chunks * 16)
            // ffn_out and residual: x += ffn_down(hb)
            kernels.matmul(xb, hb, layer.ffnDown, batch: m)
            Ops.add(x, xb, count: m * dim)
        }
        tokens.append(contentsOf: batch)

        // final rmsnorm and the output head for the wanted rows, now at the front of x (hidden states: the norm's
        // output is the result)
        guard let logits, !rows.isEmpty else { return true }
        let normed = output == .logits ? xb : logits
        for j in 0..<rows.count {
            Ops.rmsnorm(normed + j * dim, x + j * dim, w.outputNorm, count: dim, epsilon: c.rmsNormEpsilon)
        }
        if output == .logits { kernels.matmul(logits, xb, w.output, batch: rows.count) }
        return true
    }

    /// Where KV head `g`'s cached row for `position` starts within one layer's keys or values (in halves): the
    /// layout of `keyCache`/`valueCache`, (layer, kv_head, capacity, head_dim).
    private func cacheOffset(kvHead g: Int, position: Int) -> Int { (g * capacity + position) * config.headDimension }

    /// Causal grouped-query attention for a batch: out (batch, q_dim) from q (batch, q_dim) and the cache.
    private func attention(_ out: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
                           keys: UnsafeMutablePointer<Float16>, values: UnsafeMutablePointer<Float16>,
                           batch n: Int, start: Int) {
        let c = config, headDim = c.headDimension, qDim = c.queryDimension
        let group = c.headCount / c.headCountKV
        let scale = 1 / Float(headDim).squareRoot()
        let span = start + n
        // llama.cpp without flash attention (its default before flash attention became automatic, and how the
        // reference data were made), operation for operation: see Ops.attentionExact
        let scratchCount = Ops.attentionScratchCount(count: span, dimension: headDim)
        // The query heads of a KV group three at a time share each converted key and value (a batch) or each read
        // of them (one token) (Ops.attentionExact3, same bits); one job per token and KV group.
        let triples = headDim % 64 == 0 ? group / 3 : 0
        // later tokens see more positions: claimed tasks, the heaviest first, keep both threads busy to the end
        kernels.parallelForClaimed(n * c.headCountKV, heaviestFirst: true) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: (triples > 0 ? 3 : 1) * scratchCount) { scratch in
                guard let base = scratch.baseAddress else { return }
                for job in range {
                    let i = job / c.headCountKV, g = job % c.headCountKV
                    let kvOffset = cacheOffset(kvHead: g, position: 0), count = start + i + 1
                    for t in 0..<triples {
                        let h = g * group + 3 * t
                        Ops.attentionExact3(out + i * qDim + h * headDim, query: q + i * qDim + h * headDim,
                                            keys: keys + kvOffset, values: values + kvOffset, stride: headDim,
                                            count: count, dimension: headDim, scale: scale, oneQuery: n == 1,
                                            scratch: base)
                    }
                    for h in (g * group + 3 * triples)..<((g + 1) * group) {
                        Ops.attentionExact(out + i * qDim + h * headDim, query: q + i * qDim + h * headDim,
                                           keys: keys + kvOffset, values: values + kvOffset, stride: headDim,
                                           count: count, dimension: headDim, scale: scale, oneQuery: n == 1,
                                           scratch: base)
                    }
                }
            }
        }
    }
}
