/// F32, F16 and BF16 weights · float activations (already rounded to the weight's precision by `ActivationQuant`,
/// so the products are those of llama.cpp's `ggml_vec_dot_f16`/`_bf16`, accumulated in f32), summed in the order
/// of llama.cpp's kernel for the batch size so that the results agree bit for bit.
enum DotFloat {
    /// Loads 16 weights starting at element `i` as floats.
    @inline(__always)
    static func load(_ type: WeightKind, _ w: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        switch type {
        case .f32: return (w + i &* 4).loadUnaligned(as: SIMD16<Float>.self)
        case .f16: return toFloat((w + i &* 2).loadUnaligned(as: SIMD16<Float16>.self))
        case .bf16: return bf16ToFloat((w + i &* 2).loadUnaligned(as: SIMD16<UInt16>.self))
        }
    }

    /// One weight at element `i` as a float.
    @inline(__always)
    static func scalar(_ type: WeightKind, _ w: UnsafeRawPointer, _ i: Int) -> Float {
        switch type {
        case .f32: return (w + i &* 4).loadUnaligned(as: Float.self)
        case .f16: return Float((w + i &* 2).loadUnaligned(as: Float16.self))
        case .bf16: return Float(bitPattern: UInt32((w + i &* 2).loadUnaligned(as: UInt16.self)) << 16)
        }
    }

    /// One weight row · one activation row of `cols` elements in the order of ggml's `ggml_vec_dot_f16`/`_f32`
    /// (llama.cpp's kernel for one token): four 16-lane accumulators over chunks of 64, reduced as
    /// `(a0 + a2) + (a1 + a3)` and then tree-summed; the leftover elements are added one by one.
    @inline(__always)
    static func dot(_ type: WeightKind, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, cols: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i &+ 64 <= cols {
            a0 = fma(a0, load(type, w, i), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self))
            a1 = fma(a1, load(type, w, i &+ 16),
                     xr.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self))
            a2 = fma(a2, load(type, w, i &+ 32),
                     xr.loadUnaligned(fromByteOffset: (i &+ 32) &* 4, as: SIMD16<Float>.self))
            a3 = fma(a3, load(type, w, i &+ 48),
                     xr.loadUnaligned(fromByteOffset: (i &+ 48) &* 4, as: SIMD16<Float>.self))
            i &+= 64
        }
        var sum = Double(treeSum((a0 + a2) + (a1 + a3)))
        while i < cols {
            sum += Double(scalar(type, w, i) * x[i])
            i &+= 1
        }
        return Float(sum)
    }

    /// The same product in the order of llamafile's tinyBLAS (llama.cpp's kernel for two or more tokens): one
    /// 16-lane accumulator over the row, then tree-summed. `cols` must be a multiple of 16.
    @inline(__always)
    static func dotBatched(_ type: WeightKind, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, cols: Int) -> Float {
        var a = SIMD16<Float>()
        let xr = UnsafeRawPointer(x)
        var i = 0
        while i &+ 16 <= cols {
            a = fma(a, load(type, w, i), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self))
            i &+= 16
        }
        return treeSum(a)
    }

    /// `out[b · outStride + r] = W[r] · x[b]` for the rows in `rows` and every activation row.
    static func rows(_ type: WeightKind, _ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                     outStride: Int, rows: Range<Int>, batch: Int) {
        // A constant kind per call below lets each copy of the loop drop the switch in `load`.
        switch type {
        case .f32: rowsOf(.f32, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .f16: rowsOf(.f16, w, x, out, outStride: outStride, rows: rows, batch: batch)
        case .bf16: rowsOf(.bf16, w, x, out, outStride: outStride, rows: rows, batch: batch)
        }
    }

    @inline(__always)
    static func rowsOf(_ type: WeightKind, _ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,
                       outStride: Int, rows: Range<Int>, batch: Int) {
        let rowBytes = x.cols &* type.bytes
        // llama.cpp hands batches of two or more tokens to tinyBLAS when the row length allows it (BF16 takes
        // other instructions there; it keeps the one-token order)
        if batch >= 2 && x.cols % 16 == 0 && type != .bf16 {
            for r in rows {
                let wr = w.data + r &* rowBytes
                for b in 0..<batch {
                    out[b &* outStride &+ r] = dotBatched(type, wr, x.floatRow(b), cols: x.cols)
                }
            }
            return
        }
        for r in rows {
            let wr = w.data + r &* rowBytes
            for b in 0..<batch {
                out[b &* outStride &+ r] = dot(type, wr, x.floatRow(b), cols: x.cols)
            }
        }
    }
}

/// The float weight formats (the switch in `DotFloat.load` is resolved outside the loops after specialisation).
enum WeightKind {
    case f32, f16, bf16

    var bytes: Int { self == .f32 ? 4 : 2 }
}
