import Foundation
import GGUF
import Testing
@testable import Tensors

@Suite("MatMul")
struct MatMulTests {
    static let pool = ThreadPool(threadCount: 2)

    struct Shape: Sendable, CustomStringConvertible {
        var type: GGMLType
        var rows: Int
        var cols: Int
        var batch: Int
        var description: String { "\(type) \(rows)x\(cols) batch \(batch)" }
    }

    static let shapes: [Shape] = GGMLType.allCases.flatMap { type in
        [1, 7].flatMap { batch in
            [Shape(type: type, rows: 37, cols: 96, batch: batch),
             Shape(type: type, rows: 5, cols: type.isQuantized ? 576 : 83, batch: batch)]
        }
    }

    @Test("matmul matches a double-precision reference", arguments: shapes)
    func matchesReference(shape: Shape) {
        let w = TestWeights(type: shape.type, rows: shape.rows, cols: shape.cols, seed: 7)
        let x = randomActivations(count: shape.batch * shape.cols, seed: 11)
        let got = runMatmul(KernelContext(pool: Self.pool), w, x, batch: shape.batch)
        let want = referenceMatmul(w, x, batch: shape.batch)
        // Rounding of the float accumulation only: a few ulps of the largest partial sum.
        let scale = want.map(abs).max() ?? 1
        let tolerance = max(1e-6, 2e-6 * scale * Double(shape.cols).squareRoot())
        var worst = (index: 0, diff: 0.0)
        for i in 0..<got.count where !(abs(Double(got[i]) - want[i]) <= worst.diff) {
            worst = (i, abs(Double(got[i]) - want[i]))
        }
        #expect(worst.diff <= tolerance,
                "\(shape): max |diff| \(worst.diff) at \(worst.index) (got \(got[worst.index]), want \(want[worst.index])), tolerance \(tolerance); first got \(got.prefix(4)), want \(want.prefix(4))")
    }

    @Test("one and two threads give bit-identical results", arguments: GGMLType.allCases)
    func threadCountDoesNotChangeResults(type: GGMLType) {
        let w = TestWeights(type: type, rows: 301, cols: 64, seed: 3)
        let x = randomActivations(count: 5 * 64, seed: 5)
        let one = runMatmul(KernelContext(pool: Self.pool, threads: 1), w, x, batch: 5)
        let two = runMatmul(KernelContext(pool: Self.pool, threads: 2), w, x, batch: 5)
        let differing = (0..<one.count).filter { one[$0].bitPattern != two[$0].bitPattern }
        #expect(differing.isEmpty,
                "\(type): \(differing.count) outputs differ, first at \(differing.first ?? -1): \(differing.first.map { "\(one[$0]) vs \(two[$0])" } ?? "")")
    }

    /// F32 and F16 follow llama.cpp's kernel choice, whose summation order differs between one token
    /// (ggml_vec_dot) and a batch (tinyBLAS): there a row of a batch is compared with the same row in a batch of two.
    /// 19 x 128 with 14 tokens: a float 2x8 pass, a 4x4 pass and 2 tokens left over. 37 x 1568 with 9 tokens: the
    /// float 2x8 tiles in a block of 32 rows and one of 5 (two pairs and an odd row), over passes of 768, 768 and
    /// 32 columns (their sums kept in memory between passes), then one token left over. Float weights are run with
    /// each `FloatTiles` plan (with `.tiles4x4` every full group of four tokens is a 4x4 tile).
    @Test("each batch row equals the same row computed alone, bit for bit (2x8, 4x4, 4x1, 8x1, 1x4 and 1x1 tiles agree)",
          arguments: GGMLType.allCases, [(19, 128, 14), (37, 1568, 9)])
    func batchRowsAreIndependent(type: GGMLType, shape: (rows: Int, cols: Int, batch: Int)) {
        let w = TestWeights(type: type, rows: shape.rows, cols: shape.cols, seed: 9)
        let x = randomActivations(count: shape.batch * shape.cols, seed: 13)
        let batchOrder = type == .f32 || type == .f16
        for plan in type.isQuantized ? [FloatTiles.preferred] : FloatTiles.allCases {
            let context = KernelContext(pool: Self.pool, floatTiles: plan)
            let all = runMatmul(context, w, x, batch: shape.batch)
            expectRowsAlone(context, w, x, all, batchOrder: batchOrder, label: "\(type) \(plan)")
        }
    }

    func expectRowsAlone(_ context: KernelContext, _ w: TestWeights, _ x: [Float], _ all: [Float], batchOrder: Bool,
                         label: String) {
        let (rows, cols, batch) = (w.rows, w.cols, all.count / w.rows)
        for b in 0..<batch {
            let row = Array(x[(b * cols)..<((b + 1) * cols)])
            let single = batchOrder
                ? Array(runMatmul(context, w, row + Array(x[0..<cols]), batch: 2)[0..<rows])
                : runMatmul(context, w, row, batch: 1)
            let part = Array(all[(b * rows)..<((b + 1) * rows)])
            let differing = (0..<rows).filter { part[$0].bitPattern != single[$0].bitPattern }
            #expect(differing.isEmpty,
                    "\(label) batch row \(b): rows \(differing.prefix(5)) differ, e.g. \(differing.first.map { "\(part[$0]) vs \(single[$0])" } ?? "")")
        }
    }

    /// One token of F32/F16/BF16 weights goes through `DotFloat.dot4` (four rows side by side, one in each quarter
    /// of a thread's rows) and `dot` for the rows left over; every row must be `dot`'s float. 23 rows leave 3 over
    /// at one thread and odd quarters at two; 147 columns leave a partial chunk of 64 and a scalar tail.
    @Test("one token of float weights gives each row ggml_vec_dot's result, bit for bit (four streams and the rest)",
          arguments: [GGMLType.f32, .f16, .bf16])
    func oneTokenFloatRowsAreDot(type: GGMLType) throws {
        let (rows, cols) = (23, 147)
        let w = TestWeights(type: type, rows: rows, cols: cols, seed: 17)
        // activations already in the weight's precision, so the kernel's rounding of them changes nothing (and the
        // F32 and F16 products are inexact enough that another summation order gives other bits: tried)
        let kind: WeightKind = type == .f32 ? .f32 : type == .f16 ? .f16 : .bf16
        let x = randomActivations(count: cols, seed: 19).map { v -> Float in
            switch kind {
            case .f32: v
            case .f16: Float(Float16(v))
            case .bf16: Float(bitPattern: v.bitPattern & 0xFFFF_0000)
            }
        }
        let rowBytes = try #require(type.rowSize(cols))
        let want = w.bytes.withUnsafeBytes { raw in
            x.withUnsafeBufferPointer { xs in
                (0..<rows).map { DotFloat.dot(kind, raw.baseAddress! + $0 * rowBytes, xs.baseAddress!, cols: cols) }
            }
        }
        for threads in [1, 2] {
            let got = runMatmul(KernelContext(pool: Self.pool, threads: threads), w, x, batch: 1)
            let differing = (0..<rows).filter { got[$0].bitPattern != want[$0].bitPattern }
            #expect(differing.isEmpty,
                    "\(type), \(threads) threads: rows \(differing.prefix(5)) differ, e.g. \(differing.first.map { "\(got[$0]) vs \(want[$0])" } ?? "")")
        }
    }

    @Test("a shape that is not whole blocks fills the output with NaN instead of reading past the row")
    func invalidShape() {
        let bytes = [UInt8](repeating: 0, count: 64)
        var out = [Float](repeating: 1, count: 2)
        let x = [Float](repeating: 1, count: 40)
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(type: .q4_0, rows: 2, cols: 40, data: raw.baseAddress!)
            #expect(!w.isValid)
            KernelContext(pool: Self.pool).matmul(&out, x, w, batch: 1)
        }
        #expect(out.allSatisfy { $0.isNaN }, "out = \(out)")
    }

    @Test("zero-valued activations give exactly zero for every type", arguments: GGMLType.allCases)
    func zeroActivations(type: GGMLType) {
        let w = TestWeights(type: type, rows: 9, cols: 64, seed: 1)
        let out = runMatmul(KernelContext(pool: Self.pool), w, [Float](repeating: 0, count: 64), batch: 1)
        #expect(out.allSatisfy { $0 == 0 }, "\(type): \(out)")
    }
}

@Suite("MatMul grouped")
struct MatMulGroupedTests {
    @Test("matmul over several weights equals separate calls bit for bit", arguments: GGMLType.allCases)
    func groupedEqualsSeparate(type: GGMLType) {
        let pool = ThreadPool(threadCount: 2)
        let context = KernelContext(pool: pool)
        let cols = 64, batch = 5
        let shapes = [37, 8, 100]
        let weights = shapes.enumerated().map { TestWeights(type: type, rows: $0.element, cols: cols, seed: UInt64($0.offset + 20)) }
        let x = randomActivations(count: batch * cols, seed: 21)
        let separate = weights.map { runMatmul(context, $0, x, batch: batch) }
        var grouped = shapes.map { [Float](repeating: .nan, count: $0 * batch) }
        let buffers = grouped.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: shapes[i] * batch) }
        defer { buffers.forEach { $0.deallocate() } }
        withExtendedLifetime(weights) {
            let datas = weights.map { w in
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(w.bytes.count, 1), alignment: 64)
                w.bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: w.bytes.count) }
                return p
            }
            defer { datas.forEach { $0.deallocate() } }
            let matrices = weights.indices.map {
                WeightMatrix(type: type, rows: shapes[$0], cols: cols, data: UnsafeRawPointer(datas[$0]))
            }
            x.withUnsafeBufferPointer { context.matmul(buffers, $0.baseAddress!, matrices, batch: batch) }
        }
        for i in grouped.indices {
            grouped[i] = Array(UnsafeBufferPointer(start: buffers[i], count: shapes[i] * batch))
            let differing = grouped[i].indices.filter { grouped[i][$0].bitPattern != separate[i][$0].bitPattern }
            #expect(differing.isEmpty, "\(type) matrix \(i): \(differing.count) outputs differ, first at \(differing.first ?? -1)")
        }
    }
}

@Suite("Kernel sets")
struct KernelSetTests {
    static let pool = ThreadPool(threadCount: 2)

    static let cases: [(GGMLType, Int, Int)] = [GGMLType.q4_0, .q4_1, .q8_0].flatMap { type in
        // rows: 8x1/4x1 mat-vec parts with a remainder, 4x4 tiles (batch 6) and the 4x8 ones (batch 9) with row and
        // token edges; batches 1, 3, 6, 9
        [(type, 301, 1), (type, 37, 3), (type, 19, 6), (type, 43, 9)]
    }

    // Runs in every build that has the VNNI kernels (CI's machines have AVX-512 VNNI, and the next test fails if
    // such a machine's build leaves them out); a portable build (SHIMMY_VNNI=0, other CPUs) has nothing to compare.
    @Test("the VNNI kernels give the portable kernels' results bit for bit", .enabled(if: KernelSet.avx512vnni.isAvailable),
          arguments: cases)
    func vnniEqualsPortable(type: GGMLType, rows: Int, batch: Int) {
        for cols in [64, 96, 576] {  // 96: an odd number of blocks (the mat-vec tiles unroll by two)
            let w = TestWeights(type: type, rows: rows, cols: cols, seed: UInt64(rows * cols))
            let x = randomActivations(count: batch * cols, seed: UInt64(batch + cols))
            let portable = runMatmul(KernelContext(pool: Self.pool, kernels: .portable), w, x, batch: batch)
            let vnni = runMatmul(KernelContext(pool: Self.pool, kernels: .avx512vnni), w, x, batch: batch)
            let differing = portable.indices.filter { portable[$0].bitPattern != vnni[$0].bitPattern }
            #expect(differing.isEmpty,
                    "\(type) \(rows)x\(cols) batch \(batch): \(differing.count) outputs differ, first at \(differing.first ?? -1): \(differing.first.map { "\(portable[$0]) vs \(vnni[$0])" } ?? "")")
        }
    }

    // The interleaved Q4_0 copy (whole groups of 8 rows) read by the VNNI mat-vec, with the rows outside whole
    // groups of a thread's range from the plain layout: 2 threads split 296 rows into unaligned ranges of 37.
    @Test("the interleaved Q4_0 mat-vec gives the portable kernels' results bit for bit",
          .enabled(if: KernelSet.avx512vnni.isAvailable), arguments: [(8, 1), (40, 2), (296, 1), (296, 3), (576, 1)])
    func interleavedEqualsPortable(rows: Int, batch: Int) {
        for cols in [64, 576] {
            let w = TestWeights(type: .q4_0, rows: rows, cols: cols, seed: UInt64(7 * rows + cols))
            let x = randomActivations(count: batch * cols, seed: UInt64(batch * 31 + cols))
            #expect(Q4_0Interleave.byteCount(WeightMatrix(type: .q4_0, rows: rows, cols: cols,
                                                          data: UnsafeRawPointer(bitPattern: 64)!)) != nil)
            let portable = runMatmul(KernelContext(pool: Self.pool, kernels: .portable), w, x, batch: batch)
            for threads in [1, 2] {
                let context = KernelContext(pool: Self.pool, threads: threads, kernels: .avx512vnni)
                let vnni = runMatmul(context, w, x, batch: batch, interleaved: true)
                let differing = portable.indices.filter { portable[$0].bitPattern != vnni[$0].bitPattern }
                #expect(differing.isEmpty, "\(rows)x\(cols) batch \(batch), \(threads) threads: \(differing.count) differ")
            }
        }
    }

    @Test("a build for a CPU with AVX-512 VNNI uses the VNNI kernels by default")
    func bestMatchesCPU() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let forced = ProcessInfo.processInfo.environment["SHIMMY_VNNI"]
        let expected: KernelSet = (forced.map { $0 == "1" } ?? cpuinfo.contains(" avx512_vnni")) ? .avx512vnni : .portable
        #expect(KernelSet.best == expected)
        #expect(KernelContext(pool: Self.pool).kernels == expected)
        #expect(KernelContext(pool: Self.pool, kernels: .portable).kernels == .portable)
    }
}
