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
                // ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` as C compilers contract them (first product fused)
                v[i] = (-(x1 * s)).addingProduct(x0, c)
                v[i + 1] = (x1 * c).addingProduct(x0, s)
                i += 2
            }
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
