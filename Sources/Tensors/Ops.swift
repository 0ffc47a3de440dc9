import Foundation

/// The element-wise and row-wise operations of a transformer block: RMSNorm, RoPE, softmax, SwiGLU, residual add.
///
/// Each follows the arithmetic of ggml's CPU ops (sums of squares in double, RoPE angles built by repeated
/// multiplication) so that an engine built on them agrees with llama.cpp to rounding.
public enum Ops {
    /// `out[i] = x[i] / sqrt(mean(x²) + epsilon) * weight[i]` over one row of `count` values.
    /// ref: ggml-cpu ops.cpp ggml_compute_forward_rms_norm_f32 followed by the multiply by the norm weight.
    @inlinable
    public static func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, count: Int, epsilon: Float) {
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i] * x[i]) }
        let mean = Float(sum / Double(count))
        let scale = 1 / (mean + epsilon).squareRoot()
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let w = UnsafeRawPointer(weight + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v * scale * w, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            out[i] = x[i] * scale * weight[i]
            i += 1
        }
    }

    /// The cos/sin table of "normal" RoPE (adjacent pairs) for one position:
    /// `theta_i = position * freqScale * freqBase^(-2i/dimensions)`, built by repeated multiplication as ggml does.
    /// `table` holds `dimensions` floats: cos, sin pairs.
    @inlinable
    public static func ropeTable(_ table: UnsafeMutablePointer<Float>, position: Int, dimensions: Int,
                                 freqBase: Float, freqScale: Float) {
        let thetaScale = Foundation.pow(freqBase, -2 / Float(dimensions))
        var theta = Float(position)
        var i = 0
        while i < dimensions {
            let t = theta * freqScale
            table[i] = Foundation.cos(t)
            table[i + 1] = Foundation.sin(t)
            theta *= thetaScale
            i += 2
        }
    }

    /// Rotates the first `ropeDimensions` values of each of `heads` heads of `headDimension` values in place,
    /// pair (2i, 2i+1) by the angle in `table` (from `ropeTable`). ref: ggml rope, mode 0 (LLAMA_ROPE_TYPE_NORM).
    @inlinable
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, ropeDimensions: Int,
                            table: UnsafePointer<Float>) {
        for h in 0..<heads {
            let v = x + h * headDimension
            var i = 0
            while i < ropeDimensions {
                let c = table[i], s = table[i + 1]
                let x0 = v[i], x1 = v[i + 1]
                v[i] = x0 * c - x1 * s
                v[i + 1] = x0 * s + x1 * c
                i += 2
            }
        }
    }

    /// In-place softmax over `count` values (max subtracted, sum in double as ggml does).
    @inlinable
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maxValue = -Float.infinity
        for i in 0..<count where x[i] > maxValue { maxValue = x[i] }
        var sum = 0.0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - maxValue)
            x[i] = e
            sum += Double(e)
        }
        let inv = Float(1 / sum)
        for i in 0..<count { x[i] *= inv }
    }

    /// `gate[i] = silu(gate[i]) * up[i]` with `silu(x) = x / (1 + e^-x)`. ref: ggml swiglu.
    @inlinable
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// `x[i] += y[i]`.
    @inlinable
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: a + b, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] += y[i]
            i += 1
        }
    }

    /// Dot product of `count` floats with a row of half-precision values (a cached key).
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float16>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let h = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float16>.self)
            acc.addProduct(a, widen(h))
            i += 16
        }
        var s = acc.sum()
        while i < count {
            s += x[i] * Float(y[i])
            i += 1
        }
        return s
    }

    /// `out[i] += a * y[i]` with `y` in half precision (a cached value row).
    @inlinable
    public static func addScaled(_ out: UnsafeMutablePointer<Float>, _ a: Float, _ y: UnsafePointer<Float16>,
                                 count: Int) {
        var i = 0
        while i + 16 <= count {
            let o = UnsafeRawPointer(out + i).loadUnaligned(as: SIMD16<Float>.self)
            let h = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float16>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: o.addingProduct(widen(h), a), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            out[i] += a * Float(y[i])
            i += 1
        }
    }

    /// Converts `count` floats to half precision (round to nearest even, like F16C).
    @inlinable
    public static func toHalf(_ out: UnsafeMutablePointer<Float16>, _ x: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = Float16(x[i]) }
    }

    @inlinable @inline(__always)
    static func widen(_ h: SIMD16<Float16>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for i in 0..<16 { r[i] = Float(h[i]) }
        return r
    }
}

extension Ops {
    /// One query head's attention over `count` cached positions with llama.cpp's single-chunk flash-attention
    /// numerics (ggml-cpu `flash_attn_ext_f16_one_chunk`, used for decode and for batches under 64 queries):
    /// the query is rounded to half precision, scores use an online softmax, and the weighted sum of values is
    /// accumulated in half precision, rounding after every step, then divided by the softmax sum.
    ///
    /// - Parameters: `keys`/`values` point at position 0 of this head's cache rows, `stride` apart;
    ///   `scratch` holds `2 * dimension` halves.
    @inlinable
    public static func attentionHalf(_ out: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
                                     keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>, stride: Int,
                                     count: Int, dimension: Int, scale: Float,
                                     scratch: UnsafeMutablePointer<Float16>) {
        let q16 = scratch, acc = scratch + dimension
        for d in 0..<dimension {
            q16[d] = Float16(query[d])
            acc[d] = 0
        }
        var maxScore = -Float.infinity
        var sum: Float = 0
        for t in 0..<count {
            let k = keys + t * stride
            var s: Float = 0
            for d in 0..<dimension { s += Float(k[d]) * Float(q16[d]) }
            s *= scale
            var ms: Float = 1, vs: Float = 1
            if s > maxScore {
                let old = maxScore
                maxScore = s
                ms = Foundation.exp(old - s)
                for d in 0..<dimension { acc[d] = Float16(Float(acc[d]) * ms) }
            } else {
                vs = Foundation.exp(s - maxScore)
            }
            let v = values + t * stride
            for d in 0..<dimension { acc[d] = Float16(Float(acc[d]).addingProduct(Float(v[d]), vs)) }
            sum = sum * ms + vs
        }
        let inv = sum == 0 ? 0 : 1 / sum
        for d in 0..<dimension { out[d] = Float(acc[d]) * inv }
    }
}
