#if SHIMMY_AVX512VNNI
import X86Intrinsics
#endif

/// Q4_0 weights repacked for the VNNI mat-vec, as llama.cpp repacks them for its CPU kernels: each group of 8 rows
/// (rows 8g ..< 8g + 8) becomes one stream of 144-byte blocks, block b holding the 8 rows' scales (8 halves) and
/// then, for k = 0 ..< 4, quant dword k of each row (lane i = row 8g + i): the layout the mat-vec tile otherwise
/// builds in registers with 8 permutes and 8 scalar loads per block. Same bytes, so the same integers and sums.
/// A copy of the weights (their size again), made at load time for Q4_0 matrices whose row count is a multiple of 8.
public enum Q4_0Interleave {
    /// Bytes per interleaved block of 8 rows.
    static let blockBytes = 144

    /// Whether this build's mat-vec reads interleaved Q4_0 weights (the VNNI kernels).
    public static var isUsed: Bool { KernelSet.best == .avx512vnni }

    /// The size of the interleaved copy of `w`, or nil when `w` is not Q4_0 or its rows are not whole groups of 8.
    public static func byteCount(_ w: WeightMatrix) -> Int? {
        guard w.type == .q4_0, w.rows > 0, w.rows % 8 == 0, w.cols > 0, w.cols % 32 == 0 else { return nil }
        return w.rows / 8 * (w.cols / 32) * blockBytes
    }

    /// A new interleaved copy of `w` (64-byte aligned; the caller deallocates it), or nil where `byteCount` is.
    static func copy(of w: WeightMatrix) -> UnsafeMutableRawPointer? {
        guard let bytes = byteCount(w) else { return nil }
        let out = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        interleave(w, into: out)
        return out
    }

    /// `w` carrying a new interleaved copy of itself (`copy(of:)`), and that copy for the caller to deallocate once
    /// the matrix is no longer used; nil where `copy(of:)` is.
    public static func withCopy(_ w: WeightMatrix) -> (matrix: WeightMatrix, copy: UnsafeMutableRawPointer)? {
        guard let buffer = copy(of: w) else { return nil }
        return (WeightMatrix(type: w.type, rows: w.rows, cols: w.cols, data: w.data, interleaved: buffer), buffer)
    }

    /// Writes the interleaved copy of `w` (`byteCount(w)` bytes) to `out`.
    static func interleave(_ w: WeightMatrix, into out: UnsafeMutableRawPointer) {
        guard byteCount(w) != nil else { return }
        let blocks = w.cols / 32, rowBytes = blocks * 18
        for g in 0..<(w.rows / 8) {
            for b in 0..<blocks {
                let dst = out + (g * blocks + b) * blockBytes
                for i in 0..<8 {
                    let src = w.data + (8 * g + i) * rowBytes + b * 18
                    dst.storeBytes(of: src.loadUnaligned(as: UInt16.self), toByteOffset: 2 * i, as: UInt16.self)
                    for k in 0..<4 {
                        let quad = src.loadUnaligned(fromByteOffset: 2 + 4 * k, as: UInt32.self)
                        dst.storeBytes(of: quad, toByteOffset: 16 + 32 * k + 4 * i, as: UInt32.self)
                    }
                }
            }
        }
    }
}

#if SHIMMY_AVX512VNNI
extension DotQ4_0 {
    /// The mat-vec (`batch` below 4) over interleaved weights: the whole groups of 8 rows inside `rows` from
    /// `packed`, the rows outside them one at a time from `w.data`. Each output is the chain of `vnniTile8x1T`.
    static func interleavedRows(_ w: WeightMatrix, _ packed: UnsafeRawPointer, _ x: ActivationRows,
                                _ out: UnsafeMutablePointer<Float>, outStride: Int, rows: Range<Int>, batch: Int) {
        let rowBytes = x.blocks &* 18
        let first = (rows.lowerBound &+ 7) & ~7, end = max(first, rows.upperBound & ~7)
        for t in 0..<batch {
            for r in rows.lowerBound..<min(first, rows.upperBound) {
                vnniTile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
            }
            var r = first
            while r < end {
                interleavedTile8x1(packed + (r &>> 3) &* x.blocks &* Q4_0Interleave.blockBytes, x, out,
                                   outStride: outStride, r0: r, t0: t)
                r &+= 8
            }
            for r in max(end, rows.lowerBound)..<rows.upperBound {
                vnniTile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)
            }
        }
    }

    /// How far ahead (bytes) the interleaved mat-vec asks for its one stream: as far as the other mat-vecs look
    /// ahead over their four streams together (4 x `prefetchDistance`). With `prefetchDistance` itself the stream
    /// had a quarter of that in flight: Q4_0 tg128, 3 interleaved runs, 401-405 -> 502-532 t/s at 1 thread,
    /// 524-561 -> 555-588 at 2 (and 336-396 -> 455-515 at 1 thread in 6 earlier runs); 1024 / 4096 bytes measured
    /// lower, 12-32 KB no better within the noise.
    static var interleavedPrefetchDistance: Int { 8192 }

    /// 8 rows x 1 token from one interleaved group (`group`: its block 0): `vnniTile8x1T` without the transposes
    /// and the scalar scale loads, one ascending stream.
    @inline(never)  // its own register allocation
    static func interleavedTile8x1(_ group: UnsafeRawPointer, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                                   outStride: Int, r0: Int, t0: Int) {
        let x0 = UnsafeRawPointer(x.int8Row(t0)), s0 = x.scaleRow(t0), n0 = x.q4OffsetRow(t0)
        var a0 = SIMD8<Float>()
        for b in 0..<x.blocks {
            let k = group + b &* Q4_0Interleave.blockBytes
            prefetch(k + interleavedPrefetchDistance)
            prefetch(k + (interleavedPrefetchDistance &+ 64))
            prefetch(k + (interleavedPrefetchDistance &+ 128))
            let d = halvesToFloats(k.loadUnaligned(as: SIMD8<UInt16>.self))
            let q = nibbleQuads((k + 16).loadUnaligned(as: SIMD8<UInt32>.self), (k + 48).loadUnaligned(as: SIMD8<UInt32>.self),
                                (k + 80).loadUnaligned(as: SIMD8<UInt32>.self), (k + 112).loadUnaligned(as: SIMD8<UInt32>.self))
            a0 = fma(a0, toFloat(q4Dots8(q, x0 + b &* 32, n0[b])), d * s0[b])
        }
        UnsafeMutableRawPointer(out + (t0 &* outStride &+ r0)).storeBytes(of: a0, as: SIMD8<Float>.self)
    }
}
#endif
