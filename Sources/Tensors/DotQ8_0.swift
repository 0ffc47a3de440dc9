/// Q8_0 weights · Q8_0 activations. ref: ggml-cpu arch/x86/quants.c ggml_vec_dot_q8_0_q8_0
///
/// A Q8_0 block is 34 bytes: Float16 `d`, then 32 int8. Lane sums of two products stay within Int16
/// (|q_w| ≤ 128, |q_x| ≤ 127), so the integer part is exact.
enum DotQ8_0 {
    static let blockBytes = 34
    // The kernels are the register tiles in DotTilesQ8_0.swift.
}
