import GGUF

/// Per-session compute state: the thread pool to use plus scratch buffers (quantized activations).
/// Not for concurrent use by two threads; give each session its own context (they may share one pool).
///
/// ```swift
/// let context = KernelContext()
/// let w = WeightMatrix(type: .q4_0, rows: 1536, cols: 576, data: pointer)
/// context.matmul(out, x, w, batch: 1)   // out[1536] = W · x[576]
/// ```
public final class KernelContext: @unchecked Sendable {
    /// The pool whose threads run the work.
    public let pool: ThreadPool
    /// Threads used per call (the first `threadCount` of the pool's).
    public let threadCount: Int
    /// The quantized dot-product kernels used.
    public let kernels: KernelSet
    /// How F16 and F32 prompt batches are tiled (the same bits either way).
    public let floatTiles: FloatTiles
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    /// Uses the first `threads` threads of `pool` (all of them when nil; clamped to 1...pool.threadCount) and the
    /// `kernels` given (`KernelSet.best` when nil or not available in this build), and `floatTiles`
    /// (`FloatTiles.preferred` when nil).
    public init(pool: ThreadPool = .shared, threads: Int? = nil, kernels: KernelSet? = nil,
                floatTiles: FloatTiles? = nil) {
        self.pool = pool
        self.threadCount = min(max(1, threads ?? pool.threadCount), pool.threadCount)
        self.kernels = kernels.flatMap { $0.isAvailable ? $0 : nil } ?? .best
        self.floatTiles = floatTiles ?? .preferred
    }

    deinit {
        scratch?.deallocate()
    }

    /// Splits `0..<count` across the threads in contiguous ranges and runs `body` on each non-empty one; below
    /// `minimum` items (too little work to pay for a dispatch) `body` runs once on the whole range on this thread.
    /// The split depends only on `count`, `minimum` and `threadCount`.
    public func parallelFor(_ count: Int, minimum: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        if count < minimum || threadCount == 1 {
            body(0..<count)
            return
        }
        let threads = min(threadCount, count)
        pool.run(threads: threads) { index, n in
            let range = KernelContext.split(count, index, n)
            if !range.isEmpty { body(range) }
        }
    }

    /// Like `parallelFor`, for work whose cost varies by index: `tasksPerThread` contiguous ranges per thread that
    /// the threads claim as they finish. With `heaviestFirst`, the ranges are handed out from the end of `0..<count`
    /// (for costs that grow with the index, such as causal attention), so the small ones even out the finish.
    public func parallelForClaimed(_ count: Int, tasksPerThread: Int = 8, heaviestFirst: Bool = false,
                                   _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = threadCount == 1 ? 1 : min(count, threadCount &* tasksPerThread)
        pool.run(tasks: tasks, threads: threadCount) { index, n in
            let range = KernelContext.split(count, heaviestFirst ? n &- 1 &- index : index, n)
            if !range.isEmpty { body(range) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, across the threads when there are at least `minimum` of them
    /// (independent rows: the results do not depend on the split).
    public func forEachRow(_ count: Int, minimum: Int = 32, _ body: (Int) -> Void) {
        parallelFor(count, minimum: minimum) { range in for i in range { body(i) } }
    }

    /// The `index`-th of `parts` contiguous ranges of `0..<count`.
    @inline(__always)
    static func split(_ count: Int, _ index: Int, _ parts: Int) -> Range<Int> {
        (count &* index / parts)..<(count &* (index &+ 1) / parts)
    }

    /// `out` (batch × w.rows, row-major) = `x` (batch × w.cols, row-major) · Wᵀ.
    ///
    /// Activations are first converted to the weight type's vec-dot type as llama.cpp's CPU backend does
    /// (Q4_0 and Q8_0 → Q8_0 blocks; Q4_1 → Q8_1 blocks; F16 → F16; BF16 → BF16; F32 as is), so results match
    /// llama.cpp closely. Each output element is computed by one thread in a fixed order, so results do not depend
    /// on the thread count. A shape the weight type cannot hold (see `WeightMatrix.isValid`) fills `out` with NaN.
    public func matmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix, batch: Int) {
        guard batch > 0, w.rows > 0 else { return }
        guard w.isValid else {
            out.update(repeating: .nan, count: batch &* w.rows)
            return
        }
        let act = prepare(x, w, batch: batch)
        let rows = w.rows
        // A few tasks per thread: a worker the OS does not schedule at once leaves its tasks to the others.
        let tasks = threadCount == 1 ? 1 : min(max(1, rows / 32), threadCount &* 4)
        pool.run(tasks: tasks, threads: threadCount) { index, n in
            let range = KernelContext.split(rows, index, n)
            if !range.isEmpty {
                MatMulKernels.rows(kernels, floatTiles, w, act, out, outStride: rows, rows: range, batch: batch)
            }
        }
    }

    /// Several products of the same input, e.g. q, k and v: `outs[i]` (batch × ws[i].rows) = x · ws[i]ᵀ.
    ///
    /// When every weight has the same `cols` and vec-dot type, the activations are converted once and all products
    /// run in one dispatch of the pool; otherwise this is `matmul` once per weight. Results are bit-identical to
    /// separate `matmul` calls either way.
    ///
    /// ```swift
    /// context.matmul([q, k, v], xb, [layer.attnQ, layer.attnK, layer.attnV], batch: n)
    /// ```
    public func matmul(_ outs: [UnsafeMutablePointer<Float>], _ x: UnsafePointer<Float>, _ ws: [WeightMatrix],
                       batch: Int) {
        guard let first = ws.first, outs.count == ws.count, batch > 0 else {
            for (out, w) in zip(outs, ws) { matmul(out, x, w, batch: batch) }
            return
        }
        let kind = VecDotType(weights: first.type)
        let shared = ws.allSatisfy { $0.cols == first.cols && $0.isValid && $0.rows > 0 && VecDotType(weights: $0.type) == kind }
        guard shared, ws.count > 1 else {
            for (out, w) in zip(outs, ws) { matmul(out, x, w, batch: batch) }
            return
        }
        let act = prepare(x, first, batch: batch)
        // Tasks: each matrix's rows in chunks of at least 32, listed matrix by matrix.
        let perThread = threadCount == 1 ? 1 : threadCount &* 4
        var tasks: [(matrix: Int, rows: Range<Int>)] = []
        for (m, w) in ws.enumerated() {
            let parts = min(max(1, w.rows / 32), perThread)
            for part in 0..<parts {
                tasks.append((m, KernelContext.split(w.rows, part, parts)))
            }
        }
        tasks.withUnsafeBufferPointer { list in
            pool.run(tasks: list.count, threads: threadCount) { index, _ in
                let task = list[index]
                let w = ws[task.matrix]
                if !task.rows.isEmpty {
                    MatMulKernels.rows(kernels, floatTiles, w, act, outs[task.matrix], outStride: w.rows,
                                       rows: task.rows, batch: batch)
                }
            }
        }
    }

    /// Converts `batch` rows of activations to the vec-dot type of `w.type` in the scratch buffer.
    func prepare(_ x: UnsafePointer<Float>, _ w: WeightMatrix, batch: Int) -> ActivationRows {
        let cols = w.cols
        let kind = VecDotType(weights: w.type)
        let blocks = cols / 32
        switch kind {
        case .f32:
            return ActivationRows(values: UnsafeRawPointer(x), scales: UnsafePointer(x), sums: UnsafePointer(x),
                                  q4Offsets: UnsafeRawPointer(x).assumingMemoryBound(to: Int32.self), cols: cols)
        case .f16, .bf16:
            let base = reserve(batch &* cols &* 4)
            let y = base.assumingMemoryBound(to: Float.self)
            let convert = { (range: Range<Int>) in
                for i in range {
                    y[i] = kind == .f16 ? Float(Float16(x[i])) : Float(bitPattern: UInt32(ActivationQuant.bf16Bits(x[i])) << 16)
                }
            }
            let total = batch &* cols
            parallelFor(total, minimum: 1 << 16, convert)
            return ActivationRows(values: UnsafeRawPointer(y), scales: UnsafePointer(y), sums: UnsafePointer(y),
                                  q4Offsets: UnsafeRawPointer(y).assumingMemoryBound(to: Int32.self), cols: cols)
        case .q8_0, .q8_1:
            let bytes = kernels == .avx512vnni  // int8 values for vpdpbusd, Int16 for the portable kernels
            let qBytes = (batch &* cols &* (bytes ? 1 : 2) &+ 63) & ~63
            let base = reserve(qBytes &+ 3 &* batch &* blocks &* 4)
            let scales = (base + qBytes).assumingMemoryBound(to: Float.self)
            let sums = scales + batch &* blocks
            let offsets = UnsafeMutableRawPointer(sums + batch &* blocks).assumingMemoryBound(to: Int32.self)
            let quantize = { (range: Range<Int>) in
                for b in range {
                    let sumRow = kind == .q8_1 ? sums + b &* blocks : nil
                    if bytes {
                        ActivationQuant.quantizeRowWide(x + b &* cols, base.assumingMemoryBound(to: Int8.self) + b &* cols,
                                                        scales + b &* blocks, sumRow, offsets + b &* blocks, count: cols)
                    } else {
                        ActivationQuant.quantizeRowWide(x + b &* cols, base.assumingMemoryBound(to: Int16.self) + b &* cols,
                                                        scales + b &* blocks, sumRow, count: cols)
                    }
                }
            }
            if batch &* cols >= 1 << 15 { parallelFor(batch, quantize) } else { quantize(0..<batch) }
            return ActivationRows(values: UnsafeRawPointer(base), scales: UnsafePointer(scales),
                                  sums: UnsafePointer(sums), q4Offsets: UnsafePointer(offsets), cols: cols)
        }
    }

    /// A scratch buffer of at least `bytes` bytes, 64-byte aligned; valid until the next call.
    func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let scratch, scratchBytes >= bytes { return scratch }
        scratch?.deallocate()
        let size = max(bytes, scratchBytes &* 2, 4096)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        scratch = buffer
        scratchBytes = size
        return buffer
    }
}
