import GGUF

/// A 2-D weight used in place: `rows` rows of `cols` elements each (ggml layout: ne[0] = cols),
/// `type.rowSize(cols)` bytes per row, rows back to back.
///
/// `cols` must be a multiple of `type.blockSize` (32 for the quantized types); `KernelContext.matmul` writes NaN
/// instead of reading out of bounds when it is not.
public struct WeightMatrix: @unchecked Sendable {
    /// The element type of the weights.
    public let type: GGMLType
    /// Output features (rows of the matrix).
    public let rows: Int
    /// Input features (elements per row).
    public let cols: Int
    /// The first byte of row 0; `rows · type.rowSize(cols)` bytes must be readable.
    public let data: UnsafeRawPointer
    /// Q4_0 only: the same weights in 8-row interleaved blocks (`Q4_0Interleave`), which the VNNI mat-vec reads
    /// instead of `data`; nil to read `data` alone.
    public let interleaved: UnsafeRawPointer?

    /// Wraps weights that live elsewhere (usually a memory-mapped GGUF file) without copying them.
    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, interleaved: UnsafeRawPointer? = nil) {
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.interleaved = interleaved
    }

    /// Bytes per row, or nil when `cols` does not fit the type's block size.
    public var rowBytes: Int? { cols >= 0 ? type.rowSize(cols) : nil }

    /// Whether the shape can be used by `matmul`: non-negative sizes and whole blocks per row.
    public var isValid: Bool { rows >= 0 && rowBytes != nil }
}

/// Activations converted for one matmul, in the layout the kernels read (see `ActivationQuant`).
struct ActivationRows {
    /// Quantized values (`cols` per row) for the Q8 types, widened to Int16 for the portable kernels and as Int8 for
    /// the VNNI ones; floats (`cols` per row) for the float types.
    var values: UnsafeRawPointer
    /// Per-block scales `d_x` (`blocks` per row); unused by the float types.
    var scales: UnsafePointer<Float>
    /// Per-block `s_x = d_x · Σq` (`blocks` per row); Q8_1 only.
    var sums: UnsafePointer<Float>
    /// Per-block `-8 Σq` (`blocks` per row): where a Q4_0 block dot starts (its weights are q - 8); VNNI only.
    var q4Offsets: UnsafePointer<Int32>
    var cols: Int
    var blocks: Int { cols / 32 }

    @inline(__always) func int16Row(_ b: Int) -> UnsafePointer<Int16> {
        values.assumingMemoryBound(to: Int16.self) + b &* cols
    }
    @inline(__always) func int8Row(_ b: Int) -> UnsafePointer<Int8> {
        values.assumingMemoryBound(to: Int8.self) + b &* cols
    }
    @inline(__always) func floatRow(_ b: Int) -> UnsafePointer<Float> {
        values.assumingMemoryBound(to: Float.self) + b &* cols
    }
    @inline(__always) func scaleRow(_ b: Int) -> UnsafePointer<Float> { scales + b &* blocks }
    @inline(__always) func sumRow(_ b: Int) -> UnsafePointer<Float> { sums + b &* blocks }
    @inline(__always) func q4OffsetRow(_ b: Int) -> UnsafePointer<Int32> { q4Offsets + b &* blocks }
}

/// Which implementation of the quantized dot products a `KernelContext` runs. Both give the same bits.
public enum KernelSet: Sendable, Equatable, CustomStringConvertible {
    /// Portable SIMD code (Int16 products), for every CPU.
    case portable
    /// AVX-512 VNNI (`vpdpbusd` on int8 activations); available when the build targets a CPU that has it.
    case avx512vnni

    /// The fastest set this build can run: `avx512vnni` when compiled in (Package.swift enables it when building for
    /// this machine and its CPU has AVX-512 VNNI), else `portable`.
    public static var best: KernelSet {
        #if SHIMMY_AVX512VNNI
        return .avx512vnni
        #else
        return .portable
        #endif
    }

    /// Whether this build contains the set.
    public var isAvailable: Bool { self == .portable || self == KernelSet.best }

    public var description: String {
        if self == .portable { return "portable SIMD" }
        #if SHIMMY_GFNI
        return "AVX-512 VNNI, GFNI"
        #else
        return "AVX-512 VNNI"
        #endif
    }
}

enum MatMulKernels {
    /// Computes `out[b · outStride + r]` for `r` in `rows` and every `b < batch`; `x` is in the layout `set` reads.
    static func rows(_ set: KernelSet, _ floatTiles: FloatTiles, _ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                     outStride: Int, rows: Range<Int>, batch: Int) {
        #if SHIMMY_AVX512VNNI
        if set == .avx512vnni {
            switch w.type {
            case .q4_0:
                if batch < 4, let packed = w.interleaved {
                    return DotQ4_0.interleavedRows(w, packed, x, out, outStride: outStride, rows: rows, batch: batch)
                }
                return DotQ4_0.vnnirows(w, x, out, outStride: outStride, rows: rows, batch: batch)
            case .q4_1: return DotQ4_1.vnnirows(w, x, out, outStride: outStride, rows: rows, batch: batch)
            case .q8_0: return DotQ8_0.vnnirows(w, x, out, outStride: outStride, rows: rows, batch: batch)
            case .f32, .f16, .bf16: break
            }
        }
        #endif
        switch w.type {
        case .q4_0: DotQ4_0.rows(w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .q4_1: DotQ4_1.rows(w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .q8_0: DotQ8_0.rows(w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .f32: DotFloat.rows(.f32, floatTiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .f16: DotFloat.rows(.f16, floatTiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .bf16: DotFloat.rows(.bf16, floatTiles, w, x, out, outStride: outStride, rows: rows, batch: batch)
        }
    }
}
