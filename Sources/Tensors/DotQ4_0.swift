/// Q4_0 weights · Q8_0 activations. ref: ggml-cpu arch/x86/quants.c ggml_vec_dot_q4_0_q8_0
///
/// A Q4_0 block is 18 bytes: Float16 `d`, then 16 bytes of nibbles; byte j holds value j in its low nibble and
/// value j + 16 in its high nibble, each stored as `q + 8`. Per block the integer products are summed per lane
/// (exactly, in Int16), converted to float and accumulated as `acc += (d_w · d_x) · lanes`, as the AVX2 kernel does.
enum DotQ4_0 {
    static let blockBytes = 18
    // The kernels are the register tiles in DotTilesQ4_0.swift.
}
