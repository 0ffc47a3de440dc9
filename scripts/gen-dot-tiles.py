# Generates Sources/Tensors/DotTilesQ4_0.swift, DotTilesQ4_1.swift, DotTilesQ8_0.swift: unrolled R-rows x T-tokens tiles for the quantized dot kernels.
# acc: how llama.cpp's x86 kernel accumulates the blocks, followed exactly so that results agree bit for bit:
#   "chain"  Q4_0 (repacked 8x8 gemm/gemv): one float chain per output, acc = fma(float(block integer dot), d_w*d_x, acc)
#   "lanes8" Q8_0 (llamafile tinyBLAS_Q0_AVX) and Q4_1 (ggml_vec_dot_q4_1_q8_1): eight float lanes, lane r holding the
#            integer sum of values 4r..4r+3 of each block, acc = fma(lanes, d_w*d_x, acc), then an 8-lane tree sum
TYPES = {
    "Q4_0": dict(bb=18, kind="q4", qoff=2, minus8=True, mins=False, acc="chain", mv=8, mv_vnni=8),
    "Q4_1": dict(bb=20, kind="q4", qoff=4, minus8=False, mins=True, acc="lanes8", mv=4, mv_vnni=4),
    "Q8_0": dict(bb=34, kind="q8", qoff=2, minus8=False, mins=False, acc="lanes8", mv=4, mv_vnni=4),
}
# mv: rows per mat-vec pass (independent chains), best measured per type with `shimmy bench -p 0 -n 128 -t 1,2`:
# Q4_0 8 rows (4: 97/164 t/s, 8: 107/174), Q4_1 4 rows (4: 110/187, 8: 102/171), Q8_0 4 rows (equal).
TILES = [(4, 4), (4, 1), (8, 1), (1, 4), (1, 1)]
out = []
p = out.append
p("// Generated (one text template per tile shape, unrolled by a small script): edit all three DotTiles files alike.")
p("//")
p("// Register tiles for the quantized dot products: R weight rows x T activation rows per pass, so a weight block is")
p("// unpacked once for T tokens and an activation block is loaded once for R rows. Every output element accumulates")
p("// its blocks in the order llama.cpp's x86 kernel for the type does (see scripts/gen-dot-tiles.py), identical in")
p("// every tile shape, so results do not depend on how rows and tokens were grouped and agree with llama.cpp's bits.")
p("")
header = list(out)


def emit_chain_1x1(p, t):
    """One row, one token, one float chain over the blocks: integer sums of four blocks at a time."""
    bb = t["bb"]
    p("        let w0 = w + r0 &* rowBytes")
    p("        let x0 = x.int16Row(t0), s0 = x.scaleRow(t0)")
    p("        var acc: Float = 0")
    p("        @inline(__always) func lanes(_ b: Int) -> SIMD16<Int16> {")
    p(f"            let y = (w0 + (b &* {bb} &+ {t['qoff']})).loadUnaligned(as: SIMD16<UInt8>.self)")
    p("            let lo = widen(y & 0x0F) &- 8, hi = widen(y &>> 4) &- 8")
    p("            let xa = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)")
    p("            let xb = UnsafeRawPointer(x0 + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)")
    p("            return lo &* xa &+ hi &* xb")
    p("        }")
    p("        var b = 0")
    p("        while b &+ 4 <= x.blocks {")
    p("            let sums = blockSums(lanes(b), lanes(b &+ 1), lanes(b &+ 2), lanes(b &+ 3))")
    p("            for k in 0..<4 {")
    p(f"                acc = acc.addingProduct(sums[k], loadHalf(w0 + (b &+ k) &* {bb}) * s0[b &+ k])")
    p("            }")
    p("            b &+= 4")
    p("        }")
    p("        while b < x.blocks {")
    p(f"            acc = acc.addingProduct(Float(blockSum(lanes(b))), loadHalf(w0 + b &* {bb}) * s0[b])")
    p("            b &+= 1")
    p("        }")
    p("        out[t0 &* outStride &+ r0] = acc")
    p("    }")
    p("")
def emit_rows(p, t, prefix, what, eight=False):
    bb, mv = t['bb'], t['mv' + ('_' + prefix if prefix else '')]
    p("    /// `out[t · outStride + r] = W[r] · x[t]` for the rows in `rows` and every token, in 4x4 tiles with 4x1, 1x4")
    p(f"    /// and 1x1 tiles for the edges; tokens go in chunks of 64 so their activations stay in cache across rows{what}.")
    if eight:
        p("    /// Four rows with eight tokens left in the chunk take the 4x8 tile.")
    p(f"    static func {prefix}rows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,")
    p("                     rows: Range<Int>, batch: Int) {")
    p(f"        let rowBytes = x.blocks &* {bb}")
    p("        if batch < 4 {")
    p(f"            // Mat-vec: {mv} independent accumulator chains, one in each {mv}th of the rows, so that each one")
    p("            // reads its weights as one ascending stream (rows side by side defeat the prefetcher on")
    p("            // DRAM-resident weights); the rest one row at a time.")
    p(f"            let part = rows.count / {mv}")
    p("            for t in 0..<batch {")
    if prefix == "vnni" and t["mins"]:  # the tile takes its rows in one call (see emit_vnni_mins_4x1)
        p("                if part > 0 {")
        p(f"                    {prefix}tile{mv}x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: rows.lowerBound, t0: t,")
        p("                                rowStep: part, rowCount: part)")
        p("                }")
    else:
        p("                for r in rows.lowerBound..<(rows.lowerBound &+ part) {")
        p(f"                    {prefix}tile{mv}x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t, rowStep: part)")
        p("                }")
    p(f"                for r in (rows.lowerBound &+ {mv} &* part)..<rows.upperBound {{")
    p(f"                    {prefix}tile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                }")
    p("            }")
    p("            return")
    p("        }")
    p("        var chunk = 0")
    p("        while chunk < batch {")
    p("            let chunkEnd = min(batch, chunk &+ 64)")
    p("            var r = rows.lowerBound")
    p("            while r < rows.upperBound {")
    p("                // Row tiles only pay when tokens share them: with fewer than 4 tokens, one row at a time keeps the")
    p("                // weight reads sequential (interleaved rows defeat the prefetcher on DRAM-resident weights, 10x).")
    p("                let fourRows = chunkEnd &- chunk >= 4 && r &+ 4 <= rows.upperBound")
    p("                var t = chunk")
    p("                while t < chunkEnd {")
    p("                    let fourTokens = t &+ 4 <= chunkEnd")
    if eight:
        p("                    if fourRows && t &+ 8 <= chunkEnd {  // 4x8: the rows' work shared by twice the tokens")
        p(f"                        {prefix}tile4x8(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
        p("                        t &+= 8")
        p("                    } else if fourRows && fourTokens {")
    else:
        p("                    if fourRows && fourTokens {")
    p(f"                        {prefix}tile4x4(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                        t &+= 4")
    p("                    } else if fourRows {")
    p(f"                        {prefix}tile4x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                        t &+= 1")
    p("                    } else if fourTokens {")
    p(f"                        {prefix}tile1x4(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                        t &+= 4")
    p("                    } else {")
    p(f"                        {prefix}tile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                        t &+= 1")
    p("                    }")
    p("                }")
    p("                r &+= fourRows ? 4 : 1")
    p("            }")
    p("            chunk = chunkEnd")
    p("        }")
    p("    }")


def emit_vnni(name, t):
    """The same tiles on int8 activations with AVX-512 VNNI: `vpdpbusd` computes exactly the quad sums the "lanes8"
    kernels accumulate (lane r = values 4r..4r+3); "chain" (Q4_0) gets the transposed tiles of
    `emit_vnni_transposed` (8 rows' block totals side by side) and a one-row tile for the last rows."""
    out = []; p = out.append
    bb, chain = t["bb"], t["acc"] == "chain"
    p("// Generated by scripts/gen-dot-tiles.py: the tiles of DotTiles" + name + ".swift for CPUs with AVX-512 VNNI, on int8")
    p("// activations. `vpdpbusd` (unsigned weight bytes x signed activation bytes, four products per 32-bit lane) gives")
    p("// the same exact integers as the portable kernels' Int16 products, so every output is the same float, bit for bit.")
    p("#if SHIMMY_AVX512VNNI")
    p("import X86Intrinsics")
    p("")
    p(f"extension Dot{name} {{")
    mv = t["mv_vnni"]
    if chain:
        emit_vnni_transposed16(p, t, 8)
        for T in (8, 4, 1):
            emit_vnni_transposed(p, t, T)
    shapes = list(TILES)
    if t["kind"] == "q8" or t["mins"]:  # the wide 4x4 tile with four token pairs, after it
        shapes.insert(shapes.index((4, 4)) + 1, (4, 8))
    for (R, T) in shapes:
        if T == 1 and R > 4 and R != mv:
            continue
        if chain and (R, T) != (1, 1):
            continue
        step = R > 1 and T == 1
        rs = (lambda i: f"{i} &* rowStep") if step else (lambda i: f"{i}")
        if t["mins"] and (R, T) == (4, 1):
            p("    /// 4 rows x 1 token starting at row `r0` and token `t0`, the rows `rowStep` apart; then the next `rowCount` - 1")
            p("    /// such groups, each starting a row further.")
        else:
            p(f"    /// {R} rows x {T} tokens starting at row `r0` and token `t0`.")
        p("    @inline(never)  // each tile gets its own register allocation")
        p(f"    static func vnniTile{R}x{T}(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,")
        rows_param = ", rowCount: Int = 1" if t["mins"] and (R, T) == (4, 1) else ""
        p(f"                              outStride: Int, r0: Int, t0: Int{', rowStep: Int = 1' if step else ''}{rows_param}) {{")
        for i in range(R):
            p(f"        let w{i} = w + (r0 &+ {rs(i)}) &* rowBytes")
        for j in range(T):
            p(f"        let x{j} = x.int8Row(t0 &+ {j}), s{j} = x.scaleRow(t0 &+ {j})")
            if t["mins"]:
                p(f"        let u{j} = x.sumRow(t0 &+ {j})")
        if chain:  # only the one-row tile: the others are the transposed ones
            emit_vnni_chain_1x1(p, t)
            continue
        if t["mins"] and (R, T) == (4, 1):
            emit_vnni_mins_4x1(p, t)
            continue
        if t["kind"] == "q8" and (R, T) in ((4, 4), (4, 8)):
            emit_vnni_q8_wide(p, t, pairs=T // 2)
            continue
        if t["mins"] and (R, T) in ((4, 4), (4, 8)):
            emit_vnni_q41_wide(p, t, pairs=T // 2)
            continue
        for i in range(R):
            for j in range(T):
                p(f"        var a{i}{j} = SIMD8<Float>()")
                if t["mins"]:
                    p(f"        var m{i}{j}: Float = 0")
        # signed x signed for Q8_0: one operand offset by 128 to make it unsigned, then 128 times the other's quad
        # sums taken off (exact integers). With more rows than tokens the weights are offset (one vpxor per row)
        # and -128 Σx is computed once per block for all R rows; otherwise the activations, and -128 Σw per row.
        wide_rows = t["kind"] == "q8" and R > T
        if t["kind"] == "q8":
            p("        // signed x signed: (" + ("w" if wide_rows else "x") + " + 128) as the unsigned operand, then 128 Σ"
              + ("x" if wide_rows else "w") + " taken off (exact integers)")
            p("        let bias = SIMD32<UInt8>(repeating: 0x80)")
        p("        for b in 0..<x.blocks {")
        for i in range(R):
            p(f"            let k{i} = w{i} + b &* {bb}")
            if step:
                p(f"            prefetch(k{i} + prefetchDistance)")
            if t["kind"] == "q4":
                p(f"            let y{i} = (k{i} + {t['qoff']}).loadUnaligned(as: SIMD16<UInt8>.self)")
                p(f"            let q{i} = splitNibbles(y{i})")
            else:
                p(f"            let q{i} = (k{i} + 2).loadUnaligned(as: SIMD32<Int8>.self)")
                if wide_rows:
                    p(f"            let wu{i} = offsetBinary(q{i})  // w + 128")
                else:
                    p(f"            let g{i} = SIMD8<Int32>() &- dotBytes(SIMD8<Int32>(), bias, q{i})  // -128 Σw per quad")
            if t["mins"]:
                p(f"            let (d{i}, n{i}) = loadHalfPair(k{i})")
            else:
                p(f"            let d{i} = {'loadHalfWide' if t['kind'] == 'q8' else 'loadHalf'}(k{i})")
        for j in range(T):
            p(f"            let xv{j} = UnsafeRawPointer(x{j} + b &* 32).loadUnaligned(as: SIMD32<Int8>.self)")
            if wide_rows:
                p(f"            let c{j} = SIMD8<Int32>() &- dotBytes(SIMD8<Int32>(), bias, xv{j})  // -128 Σx per quad")
            elif t["kind"] == "q8":
                p(f"            let xu{j} = offsetBinary(xv{j})  // x + 128")
            p(f"            let e{j} = s{j}[b]")
            if t["mins"]:
                p(f"            let v{j} = u{j}[b]")
        for i in range(R):
            for j in range(T):
                if wide_rows:
                    lanes = f"dotBytes(c{j}, wu{i}, xv{j})"
                elif t["kind"] == "q8":
                    lanes = f"dotBytes(g{i}, xu{j}, q{i})"
                else:
                    lanes = f"dotBytes(SIMD8<Int32>(), q{i}, xv{j})"
                p(f"            a{i}{j} = fma(a{i}{j}, toFloat({lanes}), d{i} * e{j})")
                if t["mins"]:
                    p(f"            m{i}{j} = m{i}{j}.addingProduct(n{i}, v{j})")
        p("        }")
        for i in range(R):
            for j in range(T):
                extra = f" + m{i}{j}" if t["mins"] else ""
                p(f"        out[(t0 &+ {j}) &* outStride &+ r0 &+ {rs(i)}] = treeSum(a{i}{j}){extra}")
        p("    }")
        p("")
    if chain:
        emit_vnni_transposed_rows(p, t)
    else:
        emit_rows(p, t, "vnni", " (VNNI tiles)", eight=t["kind"] == "q8" or t["mins"])
    p("}")
    p("#endif")
    text = "\n".join(out) + "\n"
    for shape in ["4x8", "4x4", "4x1", "8x1", "1x4", "1x1"]:
        text = text.replace(f"vnnitile{shape}(", f"vnniTile{shape}(")
    open(f"/work/main/Sources/Tensors/DotTilesVNNI{name}.swift", "w").write(text)


def emit_wide_accumulators(p, pairs=2):
    """The 4 rows x `pairs` token pairs of float accumulators of the 512-bit 4x4 (4x8) tiles."""
    p("        // 512-bit: lanes 0-7 are one token's eight lanes, lanes 8-15 the next token's")
    for i in range(4):
        for j in range(pairs):
            p(f"        var a{i}{j} = SIMD16<Float>()  // tokens {2 * j}, {2 * j + 1}")


def emit_wide_token_pairs(p, name, flip, pairs=(0, 1)):
    """Block b of tokens 2j and 2j+1 in one vector (`name`j; `flip`: as x + 128) and their scales (e`j`)."""
    for j in pairs:
        pair = f"tokenPair(x{2 * j}, x{2 * j + 1}, block: b)"
        p(f"            let {name}{j} = {'offsetBinary(' + pair + ')  // x + 128' if flip else pair}")
        p(f"            let e{j} = scalePair(s{2 * j}[b], s{2 * j + 1}[b], spread)")


def emit_spread(p):
    """The hidden permute indices of `scalePair` (a pair of token scales, each in eight lanes)."""
    p("        let spread = SIMD16<UInt32>(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1) | hide  // see scalePair")


def emit_wide_products(p, name, flip, pairs, product):
    """The 4 rows x `pairs` token pairs of FMAs of a wide tile, `product(i, j)` giving the FMA's two factors for row
    i and pair j. 4x4: both pairs' activations first; 4x8: each pair's just before its use (registers)."""
    if pairs == 2:
        emit_wide_token_pairs(p, name, flip=flip)
        for i in range(4):
            for j in range(2):
                p(f"            a{i}{j} = fma(a{i}{j}, {product(i, j)})")
        return
    for j in range(pairs):
        emit_wide_token_pairs(p, name, flip=flip, pairs=(j,))
        for i in range(4):
            p(f"            a{i}{j} = fma(a{i}{j}, {product(i, j)})")


def emit_wide_stores(p, mins=False, group=0):
    """The 16 outputs' tree sums (treeSum of each accumulator half: tinyBLAS's hsum order) side by side through
    `Ops.FoldIndices` (vpermt2ps with indices LLVM cannot see: with constant ones, or one treeSum per half, it
    emitted ~130 narrow shuffles per tile), then one permute to lane 4t + i (token t, row i) and four stores.
    `mins`: the Q4_1 min terms (lane 4i + t) added after, as each output adds its own."""
    j0, j1, g = 2 * group, 2 * group + 1, "" if group == 0 else str(group)
    if group == 0:
        p("        // the 16 tree sums side by side: lane 2k + h is half h of the k-th accumulator below, then lane 4t + i")
        p("        let folds = Ops.FoldIndices(hidden: UInt32(truncatingIfNeeded: rowBytes &>> 56))  // 0, hidden from LLVM")
    p(f"        let halves{g} = folds.fold(folds.fold(folds.fold(a0{j0}, a1{j0}, 1), folds.fold(a2{j0}, a3{j0}, 1), 2),")
    p(f"                                folds.fold(folds.fold(a0{j1}, a1{j1}, 1), folds.fold(a2{j1}, a3{j1}, 1), 2), 3)")
    order = [2 * (m % 4) + 8 * (m // 4 // 2) + (m // 4) % 2 for m in range(16)]
    if group == 0:
        p(f"        let tokenMajor = SIMD16<UInt32>({', '.join(map(str, order))}) &+ folds.zero")
    p(f"        {'var' if mins else 'let'} sums{g} = Ops.lanePermute(halves{g}, halves{g}, tokenMajor)")
    if mins:
        if group == 0:
            transposed = [4 * (m % 4) + m // 4 for m in range(16)]
            p(f"        let transpose = SIMD16<UInt32>({', '.join(map(str, transposed))}) &+ folds.zero")
        p(f"        sums{g} += Ops.lanePermute(mins{g}, mins{g}, transpose)")
    for t, part in enumerate(["lowHalf.lowHalf", "lowHalf.highHalf", "highHalf.lowHalf", "highHalf.highHalf"]):
        p(f"        UnsafeMutableRawPointer(out + ((t0 &+ {4 * group + t}) &* outStride &+ r0)).storeBytes(of: sums{g}.{part}, as: SIMD4<Float>.self)")


def emit_vnni_q8_wide(p, t, pairs=2):
    """Q8_0, 4 rows x 4 tokens in 512-bit vectors: lanes 0-7 one token's eight lanes, lanes 8-15 the next token's
    (tinyBLAS's eight lanes per output, unchanged). Zen 5 runs `vpdpbusd`, the conversion and the FMA on zmm at the
    ymm rate, so each does two outputs' work: a row's 32 weights are loaded into both halves, two tokens' flipped
    activations share a vector, and one multiply gives the two scale products d · e of a row and token pair
    (Q8_0 pp512 at 1 thread ~472 -> ~614 t/s). `pairs` 4: the 4x8 tile, where a row's loads, Σw and scale serve
    eight tokens (on a Xeon, whose zmm work has two ports: `KernelBench gemm` best of 6 +3-19%, pp512 at 1 thread
    median of 8 interleaved runs 262 -> 276 t/s)."""
    bb = t["bb"]
    emit_wide_accumulators(p, pairs)
    p("        // signed x signed: (x + 128) as the unsigned operand, then 128 Σw taken off (exact integers)")
    p("        let bias = SIMD64<UInt8>(repeating: 0x80)")
    p("        let hide = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: rowBytes &>> 56))  // 0, hidden from LLVM")
    emit_spread(p)
    p("        for b in 0..<x.blocks {")
    for i in range(4):
        p(f"            let k{i} = w{i} + b &* {bb}")
        p(f"            let h{i} = (k{i} + 2).loadUnaligned(as: SIMD32<Int8>.self)")
        p(f"            let q{i} = SIMD64<Int8>(lowHalf: h{i}, highHalf: h{i})")
        p(f"            let g{i} = SIMD16<Int32>() &- dotBytes(SIMD16<Int32>(), bias, q{i})  // -128 Σw per quad")
        p(f"            let d{i} = SIMD16<Float>(repeating: loadHalfWide(k{i}))")
    emit_wide_products(p, "xu", True, pairs, lambda i, j: f"toFloat(dotBytes(g{i}, xu{j}, q{i})), d{i} * e{j}")
    p("        }")
    for group in range(pairs // 2):
        emit_wide_stores(p, group=group)
    p("    }")
    p("")


def emit_vnni_q41_wide(p, t, pairs=2):
    """Q4_1, 4 rows x 4 tokens in 512-bit vectors, as `emit_vnni_q8_wide`: two tokens' eight lanes per vector, a
    row's 32 values in both halves (one GFNI instruction from the 16 bytes), and the 16 min terms m_i · s_j of a block
    in one FMA (lane 4i + j). Each output takes the same roundings as the 8-lane tile. `pairs` 4: the 4x8 tile,
    where a row's nibble split and (d, m) pair serve eight tokens (two vectors of min terms, tokens 0-3 and 4-7)."""
    bb = t["bb"]
    emit_wide_accumulators(p, pairs)
    for group in range(pairs // 2):
        g = "" if group == 0 else str(group)
        p(f"        var mins{g} = SIMD16<Float>()  // lane 4i + j: row i, token {'j' if group == 0 else f'{4 * group} + j'}")
    p("        let hide = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: rowBytes &>> 56))  // 0, hidden from LLVM")
    p("        let spreadM = SIMD16<UInt32>(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7) | hide  // m_i of (d0 m0 d1 m1 ...)")
    emit_spread(p)
    p("        for b in 0..<x.blocks {")
    for i in range(4):
        p(f"            let k{i} = w{i} + b &* {bb}")
        p(f"            let q{i} = splitNibblesTwice((k{i} + {t['qoff']}).loadUnaligned(as: SIMD16<UInt8>.self))")
    p("            let dm = halfPairs(k0, k1, k2, k3)  // d0 m0 d1 m1 ...")
    if pairs > 2:
        p("            let m = permute(SIMD16(lowHalf: dm, highHalf: dm), spreadM)")
    for group in range(pairs // 2):
        g = "" if group == 0 else str(group)
        u = [f"u{4 * group + j}[b]" for j in range(4)]
        p(f"            let vq{g} = SIMD4<Float>({', '.join(u)})")
        m_lanes = "m" if pairs > 2 else "permute(SIMD16(lowHalf: dm, highHalf: dm), spreadM)"
        p(f"            mins{g} = fma(mins{g}, {m_lanes},")
        p(f"                       SIMD16(lowHalf: SIMD8(lowHalf: vq{g}, highHalf: vq{g}), highHalf: SIMD8(lowHalf: vq{g}, highHalf: vq{g})))")
    emit_wide_products(p, "xv", False, pairs, lambda i, j:
                       f"toFloat(dotBytes(SIMD16<Int32>(), q{i}, xv{j})), SIMD16(repeating: dm[{2 * i}]) * e{j}")
    p("        }")
    for group in range(pairs // 2):
        emit_wide_stores(p, mins=True, group=group)
    p("    }")
    p("")


def emit_vnni_mins_4x1(p, t):
    """Q4_1 mat-vec, four rows: the instruction count per row and block is what bounds it (the default model's
    mat-vec read ~27 GB/s on the EPYC where Q4_0's and Q8_0's reach the ~40 one core reads), so rows go in pairs, one
    row's eight lanes in each half of a 512-bit vector: one `vpdpbusd`, conversion, scale permute and FMA per two rows,
    the activations broadcast to both halves once per block. Each row's nibbles are split by GFNI (two rows' 16 bytes,
    one instruction), and the four rows' (d, m) pairs convert in one `vcvtph2ps`: one multiply gives the four scale
    products d_i · e (even lanes) and one FMA adds the four m_i · s terms (odd lanes; the even lanes' d_i · s are
    never read, so s comes as one broadcast).
    Each output takes the same roundings as the scalar form, in the same lanes. `rowCount` rows from `r0` (each with
    its three partners `rowStep` apart) in one call: rows are short (576 columns are 18 blocks), so the call and its
    setup were paid every 18 blocks."""
    bb = t["bb"]
    p("        let folds = Ops.FoldIndices(hidden: UInt32(truncatingIfNeeded: rowBytes &>> 56))  // 0, hidden from LLVM")
    p("        // lanes 2i and 2i + 2 of the scale products to the halves: a `vpermps` each, with indices LLVM cannot see")
    p("        // (the folds' zero), since for constant ones it multiplies scalars and broadcasts them")
    p("        let lanes01 = folds.zero &+ SIMD16(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2)")
    p("        let lanes23 = folds.zero &+ SIMD16(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6)")
    p("        for row in 0..<rowCount {")
    p("            let next = row &* rowBytes")
    p("            var a01 = SIMD16<Float>(), a23 = SIMD16<Float>()  // rows 0 and 1, rows 2 and 3: eight lanes each")
    p("            var mins = SIMD8<Float>()  // lane 2i + 1: row i's sum of m · s (the even lanes' d · s are not read)")
    p("            for b in 0..<x.blocks {")
    for i in range(4):
        p(f"                let k{i} = w{i} + (next &+ b &* {bb})")
        p(f"                prefetch(k{i} + prefetchDistance)")
    for i in (0, 2):
        p(f"                let q{i}{i + 1} = splitNibblesPair((k{i} + {t['qoff']}).loadUnaligned(as: SIMD16<UInt8>.self),")
        p(f"                                         (k{i + 1} + {t['qoff']}).loadUnaligned(as: SIMD16<UInt8>.self))")
    p("                let dm = halfPairs(k0, k1, k2, k3)  // d0 m0 d1 m1 ...")
    p("                let xh = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int8>.self)")
    p("                let xv0 = SIMD64(lowHalf: xh, highHalf: xh)")
    p("                let e0 = s0[b], v0 = u0[b]")
    p("                let scales = dm * e0")
    p("                let both = SIMD16(lowHalf: scales, highHalf: scales)")
    p("                mins = fma(mins, dm, SIMD8(repeating: v0))")
    p("                a01 = fma(a01, toFloat(dotBytes(SIMD16<Int32>(), q01, xv0)), permute(both, lanes01))")
    p("                a23 = fma(a23, toFloat(dotBytes(SIMD16<Int32>(), q23, xv0)), permute(both, lanes23))")
    p("            }")
    p("            // the four rows' `treeSum`s side by side, the same pairs: lane 4i + k is row i's l_k + l_(k+4), then")
    p("            // lane 2i + k row i's (l_k + l_(k+4)) + (l_(k+2) + l_(k+6)), then lane i the row's sum")
    p("            let quarters = folds.fold(a01, a23, 1)")
    p("            let sums = folds.fold(folds.fold(quarters, quarters, 2), quarters, 3)")
    for i in range(4):
        p(f"            out[t0 &* outStride &+ r0 &+ row &+ {i} &* rowStep] = sums[{i}] + mins[{2 * i + 1}]")
    p("        }")
    p("    }")
    p("")



def emit_vnni_transposed16(p, t, T):
    """Q4_0, 16 rows x T tokens in 512-bit vectors: the transposed tile of `emit_vnni_transposed` with lane i = row i
    of 16. Zen 5 issues zmm `vpdpbusd` at the ymm rate, so each block step does twice the rows per instruction; the
    4x4 transposes run per 128-bit quarter (rows i, i+4, i+8, i+12 in the quarters of v_i). Same integers, same
    float chain per output."""
    bb, qo = t["bb"], t["qoff"]
    p(f"    /// 16 rows x {T} tokens starting at row `r0` and token `t0`, the rows' quants transposed in 512-bit registers.")
    p("    @inline(never)  // each tile gets its own register allocation")
    p(f"    static func vnniTile16x{T}T(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,")
    p(f"                               outStride: Int, r0: Int, t0: Int) {{")
    for i in range(16):
        p(f"        let w{i} = w + (r0 &+ {i}) &* rowBytes")
    for j in range(T):
        p(f"        let x{j} = UnsafeRawPointer(x.int8Row(t0 &+ {j})), s{j} = x.scaleRow(t0 &+ {j}), n{j} = x.q4OffsetRow(t0 &+ {j})")
        p(f"        var a{j} = SIMD16<Float>()")
    p("        let nibbles = SIMD16<UInt32>(repeating: 0x0F0F_0F0F)")
    p("        // per 128-bit quarter q: lanes [i, i+16, i+1, i+17] of the pair, then [0, 1, 16, 17] (i = 4q); hidden from")
    p("        // LLVM as in the 8-row tiles (rowBytes is far below 2^56, so `hide` is 0)")
    p("        let hide = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: rowBytes &>> 56))")
    def idx(f):
        return ", ".join(str(v) for q in range(4) for v in f(4 * q))
    p(f"        let lo32 = SIMD16<UInt32>({idx(lambda i: (i, i + 16, i + 1, i + 17))}) | hide")
    p(f"        let hi32 = SIMD16<UInt32>({idx(lambda i: (i + 2, i + 18, i + 3, i + 19))}) | hide")
    p(f"        let lo64 = SIMD16<UInt32>({idx(lambda i: (i, i + 1, i + 16, i + 17))}) | hide")
    p(f"        let hi64 = SIMD16<UInt32>({idx(lambda i: (i + 2, i + 3, i + 18, i + 19))}) | hide")
    p("        for b in 0..<x.blocks {")
    for i in range(16):
        p(f"            let k{i} = w{i} + b &* {bb}")
    p("            // v_i: the four quant dwords of rows i, i+4, i+8, i+12")
    for i in range(4):
        p(f"            let v{i} = SIMD16<UInt32>(")
        p(f"                lowHalf: SIMD8(lowHalf: (k{i} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self),")
        p(f"                               highHalf: (k{i + 4} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self)),")
        p(f"                highHalf: SIMD8(lowHalf: (k{i + 8} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self),")
        p(f"                                highHalf: (k{i + 12} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self)))")
    p("            let p0 = permute(v0, v1, lo32), p1 = permute(v0, v1, hi32)")
    p("            let p2 = permute(v2, v3, lo32), p3 = permute(v2, v3, hi32)")
    p("            // c_k: dword k of every row (lane i = row i)")
    p("            let c0 = permute(p0, p2, lo64), c1 = permute(p0, p2, hi64)")
    p("            let c2 = permute(p1, p3, lo64), c3 = permute(p1, p3, hi64)")
    for k in range(4):
        p(f"            let q{k} = unsafeBitCast(c{k} & nibbles, to: SIMD64<UInt8>.self)")
        p(f"            let q{k + 4} = unsafeBitCast((c{k} &>> 4) & nibbles, to: SIMD64<UInt8>.self)")
    p("            var h = SIMD16<UInt16>()")
    for i in range(16):
        p(f"            h[{i}] = k{i}.loadUnaligned(as: UInt16.self)")
    p("            let d = halvesToFloats(h)")
    for j in range(T):
        p(f"            let y{j} = x{j} + b &* 32")
        p(f"            var z{j} = SIMD16<Int32>(repeating: n{j}[b]), u{j} = SIMD16<Int32>()  // -8 Σx; two chains")
        for k in range(8):
            p(f"            {'zu'[k % 2]}{j} = dotBytes({'zu'[k % 2]}{j}, q{k}, broadcastQuad16(y{j}, {4 * k}))")
        p(f"            a{j} = fma(a{j}, toFloat(z{j} &+ u{j}), d * s{j}[b])")
    p("        }")
    for j in range(T):
        p(f"        UnsafeMutableRawPointer(out + ((t0 &+ {j}) &* outStride &+ r0)).storeBytes(of: a{j}, as: SIMD16<Float>.self)")
    p("    }")
    p("")


def emit_vnni_transposed(p, t, T):
    """Q4_0 on VNNI, 8 rows x T tokens with no horizontal sums: the 8 rows' quants are transposed in registers so
    that lane i of a vector holds four bytes of row i; `vpdpbusd` against one activation quad broadcast to every
    lane then accumulates all 8 rows' block dots side by side. Same integers, same float chain as the other tiles."""
    bb, qo = t["bb"], t["qoff"]
    step = T == 1
    rs = (lambda i: f"{i} &* rowStep") if step else (lambda i: f"{i}")
    p(f"    /// 8 rows x {T} tokens starting at row `r0` and token `t0`, the rows' quants transposed in registers.")
    p("    @inline(never)  // each tile gets its own register allocation")
    p(f"    static func vnniTile8x{T}T(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,")
    p(f"                              outStride: Int, r0: Int, t0: Int{', rowStep: Int = 1' if step else ''}) {{")
    for i in range(8):
        p(f"        let w{i} = w + (r0 &+ {rs(i)}) &* rowBytes")
    for j in range(T):
        p(f"        let x{j} = UnsafeRawPointer(x.int8Row(t0 &+ {j})), s{j} = x.scaleRow(t0 &+ {j}), n{j} = x.q4OffsetRow(t0 &+ {j})")
        p(f"        var a{j} = SIMD8<Float>()")
    p("        // lanes [i, i+8, i+1, i+9] per 128-bit half, then [0, 1, 8, 9] of those pairs: a 4x4 transpose per half")
    p("        // (indices LLVM cannot see as constants: with constants it merged the shuffles into the loads as ~40")
    p("        // inserts and blends per block instead of 8 `vpermt2d`; rowBytes is far below 2^56, so `hide` is 0)")
    p("        let hide = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: rowBytes &>> 56))")
    p("        let lo32 = SIMD8<UInt32>(0, 8, 1, 9, 4, 12, 5, 13) | hide, hi32 = SIMD8<UInt32>(2, 10, 3, 11, 6, 14, 7, 15) | hide")
    p("        let lo64 = SIMD8<UInt32>(0, 1, 8, 9, 4, 5, 12, 13) | hide, hi64 = SIMD8<UInt32>(2, 3, 10, 11, 6, 7, 14, 15) | hide")
    p("        for b in 0..<x.blocks {")
    for i in range(8):
        p(f"            let k{i} = w{i} + b &* {bb}")
    if step:
        p("            if b & 1 == 0 {  // once per two blocks (36 bytes) and row: still every cache line")
        p("                " + "; ".join(f"prefetch(k{i} + prefetchDistance)" for i in range(4)))
        p("                " + "; ".join(f"prefetch(k{i} + prefetchDistance)" for i in range(4, 8)))
        p("            }")
    p("            // v_i: row i's four quant dwords, then row i+4's")
    for i in range(4):
        p(f"            let v{i} = SIMD8<UInt32>(lowHalf: (k{i} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self),")
        p(f"                                    highHalf: (k{i + 4} + {qo}).loadUnaligned(as: SIMD4<UInt32>.self))")
    p("            let p0 = permute(v0, v1, lo32), p1 = permute(v0, v1, hi32)")
    p("            let p2 = permute(v2, v3, lo32), p3 = permute(v2, v3, hi32)")
    p("            // c_k: dword k of every row (lane i = row i): bytes 4k..4k+3, whose low nibbles are values")
    p("            // 4k..4k+3 and high nibbles values 16+4k..16+4k+3")
    p("            let c0 = permute(p0, p2, lo64), c1 = permute(p0, p2, hi64)")
    p("            let c2 = permute(p1, p3, lo64), c3 = permute(p1, p3, hi64)")
    p("            let q = nibbleQuads(c0, c1, c2, c3)")
    p("            var h = SIMD8<UInt16>()")
    for i in range(8):
        p(f"            h[{i}] = k{i}.loadUnaligned(as: UInt16.self)")
    p("            let d = halvesToFloats(h)")
    for j in range(T):
        p(f"            a{j} = fma(a{j}, toFloat(q4Dots8(q, x{j} + b &* 32, n{j}[b])), d * s{j}[b])")
    p("        }")
    for j in range(T):
        if step:
            for i in range(8):
                p(f"        out[(t0 &+ {j}) &* outStride &+ r0 &+ {rs(i)}] = a{j}[{i}]")
        else:
            p(f"        UnsafeMutableRawPointer(out + ((t0 &+ {j}) &* outStride &+ r0)).storeBytes(of: a{j}, as: SIMD8<Float>.self)")
    p("    }")
    p("")


def emit_vnni_transposed_rows(p, t):
    bb = t["bb"]
    p("    /// `out[t · outStride + r] = W[r] · x[t]` for the rows in `rows` and every token: the 16x8, 8x8, 8x4 and 8x1")
    p("    /// transposed tiles, 1x1 tiles for the last rows; tokens in chunks of 64 (VNNI tiles).")
    p("    static func vnnirows(_ w: WeightMatrix, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>, outStride: Int,")
    p("                     rows: Range<Int>, batch: Int) {")
    p(f"        let rowBytes = x.blocks &* {bb}")
    p("        if batch < 4 {")
    p("            // Mat-vec: 8 rows at a time, one in each 8th of the rows, so that each reads its weights as one")
    p("            // ascending stream (rows side by side defeat the prefetcher on DRAM-resident weights); the rest one")
    p("            // row at a time. Transposed, without horizontal sums: tg128 at 1 thread 205 -> 250 t/s.")
    p("            let part = rows.count / 8")
    p("            for t in 0..<batch {")
    p("                for r in rows.lowerBound..<(rows.lowerBound &+ part) {")
    p("                    vnniTile8x1T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t, rowStep: part)")
    p("                }")
    p("                for r in (rows.lowerBound &+ 8 &* part)..<rows.upperBound {")
    p("                    vnniTile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                }")
    p("            }")
    p("            return")
    p("        }")
    p("        var chunk = 0")
    p("        while chunk < batch {")
    p("            let chunkEnd = min(batch, chunk &+ 64)")
    p("            var r = rows.lowerBound")
    p("            while r &+ 16 <= rows.upperBound {")
    p("                var t = chunk")
    p("                while t &+ 8 <= chunkEnd {")
    p("                    vnniTile16x8T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                    t &+= 8")
    p("                }")
    p("                for r8 in stride(from: r, to: r &+ 16, by: 8) {  // the last tokens, 8 rows at a time")
    p("                    var t4 = t")
    p("                    while t4 &+ 4 <= chunkEnd {")
    p("                        vnniTile8x4T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r8, t0: t4)")
    p("                        t4 &+= 4")
    p("                    }")
    p("                    while t4 < chunkEnd {")
    p("                        vnniTile8x1T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r8, t0: t4)")
    p("                        t4 &+= 1")
    p("                    }")
    p("                }")
    p("                r &+= 16")
    p("            }")
    p("            while r &+ 8 <= rows.upperBound {")
    p("                var t = chunk")
    p("                while t &+ 8 <= chunkEnd {")
    p("                    vnniTile8x8T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                    t &+= 8")
    p("                }")
    p("                while t &+ 4 <= chunkEnd {")
    p("                    vnniTile8x4T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                    t &+= 4")
    p("                }")
    p("                while t < chunkEnd {")
    p("                    vnniTile8x1T(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                    t &+= 1")
    p("                }")
    p("                r &+= 8")
    p("            }")
    p("            while r < rows.upperBound {")
    p("                var t = chunk")
    p("                while t < chunkEnd {")
    p("                    vnniTile1x1(w.data, rowBytes: rowBytes, x, out, outStride: outStride, r0: r, t0: t)")
    p("                    t &+= 1")
    p("                }")
    p("                r &+= 1")
    p("            }")
    p("            chunk = chunkEnd")
    p("        }")
    p("    }")


def emit_vnni_chain_1x1(p, t):
    """One row, one token, one float chain: the totals of four blocks at a time."""
    bb = t["bb"]
    p("        var acc: Float = 0")
    p("        let eights = SIMD32<UInt8>(repeating: 8)")
    p("        @inline(__always) func lanes(_ b: Int) -> SIMD8<Int32> {")
    p(f"            let y = (w0 + (b &* {bb} &+ {t['qoff']})).loadUnaligned(as: SIMD16<UInt8>.self)")
    p("            let xv = UnsafeRawPointer(x0 + b &* 32).loadUnaligned(as: SIMD32<Int8>.self)")
    p("            let c = SIMD8<Int32>() &- dotBytes(SIMD8<Int32>(), eights, xv)")
    p("            return dotBytes(c, splitNibbles(y), xv)")
    p("        }")
    p("        var b = 0")
    p("        while b &+ 4 <= x.blocks {")
    p("            let sums = toFloat(laneTotals(lanes(b), lanes(b &+ 1), lanes(b &+ 2), lanes(b &+ 3)))")
    p("            for k in 0..<4 {")
    p(f"                acc = acc.addingProduct(sums[k], loadHalf(w0 + (b &+ k) &* {bb}) * s0[b &+ k])")
    p("            }")
    p("            b &+= 4")
    p("        }")
    p("        while b < x.blocks {")
    p(f"            acc = acc.addingProduct(Float(laneTotal(lanes(b))), loadHalf(w0 + b &* {bb}) * s0[b])")
    p("            b &+= 1")
    p("        }")
    p("        out[t0 &* outStride &+ r0] = acc")
    p("    }")
    p("")


for name, t in TYPES.items():
    emit_vnni(name, t)
    out = list(header); p = out.append
    bb, mv = t["bb"], t["mv"]
    p(f"extension Dot{name} {{")
    for (R, T) in TILES:
        if T == 1 and R > 4 and R != t["mv"]:
            continue
        p(f"    /// {R} rows x {T} tokens starting at row `r0` and token `t0`.")
        p("    @inline(never)  // each tile gets its own register allocation")
        step = R > 1 and T == 1  # rows r0, r0 + rowStep, ...: separate sequential streams for mat-vec
        p(f"    static func tile{R}x{T}(_ w: UnsafeRawPointer, rowBytes: Int, _ x: ActivationRows, _ out: UnsafeMutablePointer<Float>,")
        p(f"                          outStride: Int, r0: Int, t0: Int{', rowStep: Int = 1' if step else ''}) {{")
        rs = (lambda i: f"{i} &* rowStep") if step else (lambda i: f"{i}")
        chain = t["acc"] == "chain"
        if chain and (R, T) == (1, 1):
            emit_chain_1x1(p, t)
            continue
        for i in range(R):
            p(f"        let w{i} = w + (r0 &+ {rs(i)}) &* rowBytes")
        for j in range(T):
            p(f"        let x{j} = x.int16Row(t0 &+ {j}), s{j} = x.scaleRow(t0 &+ {j})")
            if t["mins"]:
                p(f"        let u{j} = x.sumRow(t0 &+ {j})")
        if chain:
            for i in range(R):
                for j in range(T):
                    p(f"        var a{i}{j}: Float = 0")
        else:
            for i in range(R):
                for j in range(T):
                    p(f"        var a{i}{j} = SIMD8<Float>()")
                    if t["mins"]:
                        p(f"        var m{i}{j}: Float = 0")
        p("        for b in 0..<x.blocks {")
        for i in range(R):
            p(f"            let k{i} = w{i} + b &* {bb}")
            if t["mins"]:
                p(f"            let (d{i}, n{i}) = loadHalfPair(k{i})")
            else:
                p(f"            let d{i} = {'loadHalfWide' if t['kind'] == 'q8' else 'loadHalf'}(k{i})")
            if t["kind"] == "q4":
                p(f"            let y{i} = (k{i} + {t['qoff']}).loadUnaligned(as: SIMD16<UInt8>.self)")
                sub = " &- 8" if t["minus8"] else ""
                p(f"            let lo{i} = widen(y{i} & 0x0F){sub}, hi{i} = widen(y{i} &>> 4){sub}")
                if t["acc"] == "lanes8":
                    p(f"            let q{i} = SIMD32<Int16>(lowHalf: lo{i}, highHalf: hi{i})")
            else:
                p(f"            let q{i} = SIMD32<Int16>(lowHalf: widen((k{i} + 2).loadUnaligned(as: SIMD16<Int8>.self)),")
                p(f"                                    highHalf: widen((k{i} + 18).loadUnaligned(as: SIMD16<Int8>.self)))")
        for j in range(T):
            if t["acc"] == "lanes8":
                p(f"            let xv{j} = UnsafeRawPointer(x{j} + b &* 32).loadUnaligned(as: SIMD32<Int16>.self)")
            else:
                p(f"            let xa{j} = UnsafeRawPointer(x{j} + b &* 32).loadUnaligned(as: SIMD16<Int16>.self)")
                p(f"            let xb{j} = UnsafeRawPointer(x{j} + (b &* 32 &+ 16)).loadUnaligned(as: SIMD16<Int16>.self)")
            p(f"            let e{j} = s{j}[b]")
            if t["mins"]:
                p(f"            let v{j} = u{j}[b]")
        if chain:
            for i in range(R):
                for j in range(T):
                    p(f"            a{i}{j} = a{i}{j}.addingProduct(Float(blockSum(lo{i} &* xa{j} &+ hi{i} &* xb{j})), d{i} * e{j})")
        else:
            for i in range(R):
                for j in range(T):
                    qs = "quadSumsQ8" if t["kind"] == "q8" else "quadSums"
                    p(f"            a{i}{j} = fma(a{i}{j}, {qs}(q{i}, xv{j}), d{i} * e{j})")
                    if t["mins"]:
                        p(f"            m{i}{j} = m{i}{j}.addingProduct(n{i}, v{j})")
        p("        }")
        for i in range(R):
            for j in range(T):
                extra = f" + m{i}{j}" if t["mins"] else ""
                if chain:
                    total = f"a{i}{j}"
                else:
                    total = f"treeSum(a{i}{j})"
                p(f"        out[(t0 &+ {j}) &* outStride &+ r0 &+ {rs(i)}] = {total}{extra}")
        p("    }")
        p("")
    emit_rows(p, t, "", "")
    p("}")
    open(f"/work/main/Sources/Tensors/DotTiles{name}.swift", "w").write("\n".join(out) + "\n")
