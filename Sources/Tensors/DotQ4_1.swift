/// Q4_1 weights · Q8_1 activations. ref: ggml-cpu arch/x86/quants.c ggml_vec_dot_q4_1_q8_1
///
/// A Q4_1 block is 20 bytes: Float16 `d`, Float16 `m`, then 16 bytes of nibbles (low nibble = value j, high nibble
/// = value j + 16, values 0...15). Per block: `acc += (d_w · d_x) · lanes` and `mins += m_w · s_x`, where
/// `s_x = d_x · Σq` is stored with the activation block.
enum DotQ4_1 {
    static let blockBytes = 20
    // The kernels are the register tiles in DotTilesQ4_1.swift.
}
