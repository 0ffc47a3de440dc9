// Small SIMD helpers for the dot-product kernels. The stdlib's generic SIMD conversions are not inlined, so each
// conversion is an `@inline(__always)` element loop that LLVM turns into one vector instruction.
import X86Intrinsics

@inline(__always)
func widen(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func widen(_ v: SIMD32<UInt8>) -> SIMD32<Int16> {
    var r = SIMD32<Int16>()
    for i in 0..<32 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func widen(_ v: SIMD32<Int8>) -> SIMD32<Int16> {
    var r = SIMD32<Int16>()
    for i in 0..<32 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func toFloat(_ v: SIMD16<Int16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func toFloat(_ v: SIMD16<Int32>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func toFloat(_ v: SIMD16<Float16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

/// bfloat16 bits to floats: the bits are the high half of a float.
@inline(__always)
func bf16ToFloat(_ v: SIMD16<UInt16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(bitPattern: UInt32(v[i]) << 16) }
    return r
}

/// `acc + a · b` per lane, fused. `@inlinable` (not only `@usableFromInline`) so that the `@inlinable` kernels can
/// inline it: a serialized body never takes a non-serialized one, and a call through the vector ABI costs ~20% of a
/// prompt batch.
@inlinable @inline(__always)
func fma(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = acc[i].addingProduct(a[i], b[i]) }
    return r
}

/// `acc + a · s` per lane, fused.
@inline(__always)
func fma(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ s: Float) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = acc[i].addingProduct(a[i], s) }
    return r
}

/// The sum of 16 lanes as a fixed tree (halves added pairwise), so the order never depends on the caller; the same
/// pairs as `_mm512_reduce_add_ps`: (l, l+8), then (l, l+4), (l, l+2), (0, 1).
@inlinable @inline(__always)
func treeSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// The Float16 stored at `p` (unaligned) as a float, through integer operations (`halfBitsToFloat`).
///
/// Scales are the one scalar per block, and how they are loaded decides the speed: converting through a vector lane
/// (`vpinsrw` + `vcvtph2ps`) merges into whatever register LLVM picks, often the accumulator, so every block waits
/// for the previous block's FMA (Q4_0 mat-vec 2x slower). Used for Q4_0/Q4_1, whose quants start right after.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer) -> Float {
    halfBitsToFloat(p.loadUnaligned(as: UInt16.self))
}

/// The Float16 stored at `p` as a float, through one whole-register 8-byte load and `vcvtph2ps` (no merge).
/// Fastest for Q8_0; for Q4_0 LLVM fused the overlapping load with the nibble load into a shuffle mess.
/// The caller guarantees 8 readable bytes.
@inline(__always)
func loadHalfWide(_ p: UnsafeRawPointer) -> Float {
    let h = p.loadUnaligned(as: SIMD4<UInt16>.self)
    var r = SIMD4<Float>()
    for k in 0..<4 { r[k] = Float(Float16(bitPattern: h[k])) }
    return r[0]
}

/// The two Float16 values at `p` (Q4_1's `d` and `m`) through one 4-byte load and one `vcvtph2ps`. (An 8-byte load
/// overlaps the quants after them, and LLVM then assembles both from three loads, a blend and a permute.)
@inline(__always)
func loadHalfPair(_ p: UnsafeRawPointer) -> (Float, Float) {
    let bits = p.loadUnaligned(as: UInt32.self)
    let h = SIMD4<UInt16>(UInt16(truncatingIfNeeded: bits), UInt16(truncatingIfNeeded: bits &>> 16), 0, 0)
    var r = SIMD4<Float>()
    for k in 0..<4 { r[k] = Float(Float16(bitPattern: h[k])) }
    return (r[0], r[1])
}

/// Float16 bits to Float with integer operations and one multiply (no vector lanes): `bits << 13` read as a float is the value times 2^-112 for normal and subnormal halves
/// alike, so one multiply by 2^112 finishes it; infinities and NaNs get the float exponent directly.
@inline(__always)
func halfBitsToFloat(_ h: UInt16) -> Float {
    let magnitude = UInt32(h & 0x7fff) << 13
    let sign = UInt32(h & 0x8000) << 16
    let finite = Float(bitPattern: magnitude) * 0x1p112
    let bits = magnitude >= 0x0F80_0000 ? (0x7f80_0000 | magnitude) : finite.bitPattern
    return Float(bitPattern: bits | sign)
}

/// Sums of four consecutive products of two blocks of 32 (`vpdpbusd`'s grouping): lane r = Σ a[4r+i]·b[4r+i].
/// Products of int8 values fit in Int16 (|a·b| ≤ 16256). The pairs and quads are summed with vertical shifts on
/// the same register read as wider lanes (no shuffles): a 32-bit lane holds two products, a 64-bit lane two pairs.
@inline(__always)
func quadSums(_ a: SIMD32<Int16>, _ b: SIMD32<Int16>) -> SIMD8<Float> {
    // Pairs as LLVM lowers them to vpmaddwd/vpdpwssd: each operand's even and odd halves read as 32-bit lanes.
    let p = unsafeBitCast(a, to: SIMD16<Int32>.self), q = unsafeBitCast(b, to: SIMD16<Int32>.self)
    let pairs = unsafeBitCast(((p &<< 16) &>> 16) &* ((q &<< 16) &>> 16) &+ (p &>> 16) &* (q &>> 16),
                              to: SIMD8<Int64>.self)
    return quadsFromPairs(pairs)
}

/// Each 64-bit lane holds two 32-bit pair sums: their total as a float, lane by lane. The low 32 bits of
/// `pairs + pairs >> 32` hold it exactly, read back by `vpmovqd`.
@inline(__always)
func quadsFromPairs(_ pairs: SIMD8<Int64>) -> SIMD8<Float> {
    let quads = pairs &+ (pairs &>> 32)
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(Int32(truncatingIfNeeded: quads[i])) }
    return r
}

/// `quadSums` for Q8_0 weights: with sign-extended int8 operands LLVM lowers the form above to `vpmulld` (2 uops
/// each), so here the products are taken as 16-bit lanes (`vpmullw`) and their pairs summed with shifts.
@inline(__always)
func quadSumsQ8(_ a: SIMD32<Int16>, _ b: SIMD32<Int16>) -> SIMD8<Float> {
    let p = unsafeBitCast(a &* b, to: SIMD16<Int32>.self)
    return quadsFromPairs(unsafeBitCast(((p &<< 16) &>> 16) &+ (p &>> 16), to: SIMD8<Int64>.self))
}

/// The exact integer sum of a block's 16 lane sums (at most 16 · 2032 in magnitude for Q4_0: fits in Int16).
@inline(__always)
func blockSum(_ v: SIMD16<Int16>) -> Int16 {
    // halves added (the standard library's `wrappedSum` is a call that is not inlined: 16 per block in a 4x4 tile)
    let a = v.lowHalf &+ v.highHalf
    let b = a.lowHalf &+ a.highHalf
    let c = b.lowHalf &+ b.highHalf
    return c[0] &+ c[1]
}

/// The wrapping sum of 16 lanes, inlined (see `blockSum`); `@inlinable` for the `@inlinable` quantizers.
@inlinable @inline(__always)
func laneSum(_ v: SIMD16<Int32>) -> Int32 {
    let a = v.lowHalf &+ v.highHalf
    let b = a.lowHalf &+ a.highHalf
    let c = b.lowHalf &+ b.highHalf
    return c[0] &+ c[1]
}

@inline(__always)
func toFloat(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

/// `acc + a · s` per lane, fused.
@inline(__always)
func fma(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ s: Float) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = acc[i].addingProduct(a[i], s) }
    return r
}

/// The sum of 8 lanes as ggml's `hsum_float_8` adds them: ((0+4)+(2+6)) + ((1+5)+(3+7)).
@inline(__always)
func treeSum(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// The exact integer sums of four blocks' 16 lane sums, as floats: a transposed reduction (each step adds the halves
/// of two vectors at once), so four horizontal sums cost about as much as one. Lane k is the sum of `v_k`.
@inline(__always)
func blockSums(_ v0: SIMD16<Int16>, _ v1: SIMD16<Int16>, _ v2: SIMD16<Int16>, _ v3: SIMD16<Int16>) -> SIMD4<Float> {
    // 16 → 8 per vector: [v0 | v1], [v2 | v3]
    let a = SIMD16(lowHalf: v0.lowHalf, highHalf: v1.lowHalf) &+ SIMD16(lowHalf: v0.highHalf, highHalf: v1.highHalf)
    let b = SIMD16(lowHalf: v2.lowHalf, highHalf: v3.lowHalf) &+ SIMD16(lowHalf: v2.highHalf, highHalf: v3.highHalf)
    // 8 → 4: [v0 | v1 | v2 | v3]
    let c = SIMD16(lowHalf: SIMD8(lowHalf: a.lowHalf.lowHalf, highHalf: a.highHalf.lowHalf),
                   highHalf: SIMD8(lowHalf: b.lowHalf.lowHalf, highHalf: b.highHalf.lowHalf))
        &+ SIMD16(lowHalf: SIMD8(lowHalf: a.lowHalf.highHalf, highHalf: a.highHalf.highHalf),
                  highHalf: SIMD8(lowHalf: b.lowHalf.highHalf, highHalf: b.highHalf.highHalf))
    // 4 → 2 → 1 through wider lanes read from the same bits (vertical shifts, as in quadSums)
    let pairs = unsafeBitCast(c, to: SIMD8<Int32>.self)
    let twos = ((pairs &<< 16) &>> 16) &+ (pairs &>> 16)
    let quads = unsafeBitCast(twos, to: SIMD4<Int64>.self)
    let sums = ((quads &<< 32) &>> 32) &+ (quads &>> 32)
    var r = SIMD4<Float>()
    for i in 0..<4 { r[i] = Float(sums[i]) }
    return r
}

/// How far ahead (bytes) a mat-vec asks for the cache lines of each of its weight streams. The hardware
/// prefetchers alone left the mat-vecs well below the memory bandwidth on weights read from memory (Q4_0 ~19 GB/s,
/// 29 from cache). A `prefetcht0` per stream and block; tg128 medians of 3-4 interleaved runs at 1 / 2 threads,
/// none -> 512 / 1024 / 2048 / 4096 bytes: Q4_0 234 / 284 -> 253 / 359, 263 / 351, 276 / 332, 257 / 318;
/// Q4_1 227 / 251 -> 198 / 271, 226 / 297, 243 / 297, 231 / 285; Q8_0 178 / 207 -> 151 / 210, 172 / 226,
/// 200 / 238, 194 / 219.
@inline(__always)
var prefetchDistance: Int { 2048 }

#if SHIMMY_AVX512VNNI

/// The exact totals of four vectors' lanes, lane k = Σ v_k.
@inline(__always)
func laneTotals(_ v0: SIMD8<Int32>, _ v1: SIMD8<Int32>, _ v2: SIMD8<Int32>, _ v3: SIMD8<Int32>) -> SIMD4<Int32> {
    let g = pairSums(pairSums(v0, v1), pairSums(v2, v3))
    return g.lowHalf &+ g.highHalf
}

/// The exact total of eight lanes.
@inline(__always)
func laneTotal(_ v: SIMD8<Int32>) -> Int32 {
    let a = v.lowHalf &+ v.highHalf
    let b = a.lowHalf &+ a.highHalf
    return b[0] &+ b[1]
}

/// `x + 128` as unsigned bytes (the sign bit flipped), the unsigned operand of `dotBytes` for signed activations.
/// Through 64-bit lanes: a 32-lane byte operation became a loop over the lanes.
@inline(__always)
func offsetBinary(_ v: SIMD32<Int8>) -> SIMD32<UInt8> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD4<UInt64>.self) ^ 0x8080_8080_8080_8080, to: SIMD32<UInt8>.self)
}

@inline(__always)
func offsetBinary(_ v: SIMD64<Int8>) -> SIMD64<UInt8> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt64>.self) ^ 0x8080_8080_8080_8080, to: SIMD64<UInt8>.self)
}

#if SHIMMY_GFNI
/// `vgf2p8affineqb` bit matrices: keep bits 0-3 of each byte (`lowNibbles`), move bits 4-7 down (`highNibbles`).
let lowNibbles: UInt64 = 0x0102_0408_0000_0000, highNibbles: UInt64 = 0x1020_4080_0000_0000
#endif

/// A Q4 block's 32 values in both 256-bit halves of a 512-bit vector: with GFNI, the 16 bytes broadcast to the four
/// quarters and one `vgf2p8affineqb` (low nibbles kept in quarters 0 and 2, high ones moved down in 1 and 3).
@inline(__always)
func splitNibblesTwice(_ y: SIMD16<UInt8>) -> SIMD64<UInt8> {
#if SHIMMY_GFNI
    let low = lowNibbles, high = highNibbles
    let quarters = SIMD64<UInt8>(lowHalf: SIMD32(lowHalf: y, highHalf: y), highHalf: SIMD32(lowHalf: y, highHalf: y))
    return affineBytes(quarters, SIMD8(low, low, high, high, low, low, high, high))
#else
    let values = splitNibbles(y)
    return SIMD64(lowHalf: values, highHalf: values)
#endif
}

/// Two Q4 blocks' 32 values each in the 256-bit halves of a 512-bit vector, `y0`'s low: with GFNI, each block's 16
/// bytes in two quarters and one `vgf2p8affineqb` (low nibbles kept in quarters 0 and 2, high ones moved down in 1
/// and 3), as `splitNibbles` does for one block.
@inline(__always)
func splitNibblesPair(_ y0: SIMD16<UInt8>, _ y1: SIMD16<UInt8>) -> SIMD64<UInt8> {
#if SHIMMY_GFNI
    let low = lowNibbles, high = highNibbles
    let quarters = SIMD64<UInt8>(lowHalf: SIMD32(lowHalf: y0, highHalf: y0), highHalf: SIMD32(lowHalf: y1, highHalf: y1))
    return affineBytes(quarters, SIMD8(low, low, high, high, low, low, high, high))
#else
    return SIMD64(lowHalf: splitNibbles(y0), highHalf: splitNibbles(y1))
#endif
}

/// The two Float16 values at each of four Q4_1 blocks (`d`, `m`) as floats d0 m0 d1 m1 ...: one `vcvtph2ps`.
///
/// Lane i comes from a 16-byte load at `k_i` - 4i, so the four loads combine with three blends (`vblendps` with a
/// memory operand, on any vector ALU) where 4-byte loads took an insert each (`vpinsrd`, a shuffle). The loads start
/// up to 12 bytes before a block: `k_i` must be at least 4i bytes into the matrix, which holds where `k_i` is in row
/// i or later (rows are at least 20 bytes).
@inline(__always)
func halfPairs(_ k0: UnsafeRawPointer, _ k1: UnsafeRawPointer, _ k2: UnsafeRawPointer,
               _ k3: UnsafeRawPointer) -> SIMD8<Float> {
    let v0 = k0.loadUnaligned(as: SIMD4<UInt32>.self), v1 = (k1 - 4).loadUnaligned(as: SIMD4<UInt32>.self)
    let v2 = (k2 - 8).loadUnaligned(as: SIMD4<UInt32>.self), v3 = (k3 - 12).loadUnaligned(as: SIMD4<UInt32>.self)
    let pairs = v0 & SIMD4(~0, 0, 0, 0) | v1 & SIMD4(0, ~0, 0, 0) | v2 & SIMD4(0, 0, ~0, 0) | v3 & SIMD4(0, 0, 0, ~0)
    return halvesToFloats(unsafeBitCast(pairs, to: SIMD8<UInt16>.self))
}

/// Block `block` of two tokens' int8 activations in the halves of one 512-bit vector (the wide 4x4 tiles).
@inline(__always)
func tokenPair(_ low: UnsafePointer<Int8>, _ high: UnsafePointer<Int8>, block: Int) -> SIMD64<Int8> {
    SIMD64(lowHalf: UnsafeRawPointer(low + block &* 32).loadUnaligned(as: SIMD32<Int8>.self),
           highHalf: UnsafeRawPointer(high + block &* 32).loadUnaligned(as: SIMD32<Int8>.self))
}

#if SHIMMY_AVX512VNNI
/// Two tokens' block scales, each in eight lanes (the halves of a token pair): one `vpermps` of the pair by `spread`
/// (lanes 0-7 index 0, lanes 8-15 index 1, built from a zero LLVM cannot see). With the pair's structure in view,
/// LLVM multiplied each row's scale d by the pair in an xmm register and spread every product d · e with a `vpermps`
/// of its own: two instructions per row and pair where one multiply on zmm does.
@inline(__always)
func scalePair(_ low: Float, _ high: Float, _ spread: SIMD16<UInt32>) -> SIMD16<Float> {
    permute(SIMD16(lowHalf: SIMD8(low, high, 0, 0, 0, 0, 0, 0), highHalf: SIMD8()), spread)
}

/// The high nibble of each of the 32 bytes, moved down: one GFNI `vgf2p8affineqb` where the build has it, else a
/// shift and a mask.
@inline(__always)
func highNibbleBytes(_ c: SIMD8<UInt32>) -> SIMD32<UInt8> {
#if SHIMMY_GFNI
    return affineBytes(unsafeBitCast(c, to: SIMD32<UInt8>.self), SIMD4(repeating: highNibbles))
#else
    return unsafeBitCast((c &>> 4) & 0x0F0F_0F0F, to: SIMD32<UInt8>.self)
#endif
}

/// A Q4_0 block of 8 rows side by side (lane i = row i) as the eight byte vectors `q4Dots8` takes: from `c_k`, quant
/// dword k of every row, the low nibbles (values 4k..4k+3) for k < 4, then the high ones (values 16+4k..16+4k+3).
typealias Quads8 = (SIMD32<UInt8>, SIMD32<UInt8>, SIMD32<UInt8>, SIMD32<UInt8>,
                    SIMD32<UInt8>, SIMD32<UInt8>, SIMD32<UInt8>, SIMD32<UInt8>)

@inline(__always)
func nibbleQuads(_ c0: SIMD8<UInt32>, _ c1: SIMD8<UInt32>, _ c2: SIMD8<UInt32>, _ c3: SIMD8<UInt32>) -> Quads8 {
    let m = SIMD8<UInt32>(repeating: 0x0F0F_0F0F)
    @inline(__always) func low(_ c: SIMD8<UInt32>) -> SIMD32<UInt8> { unsafeBitCast(c & m, to: SIMD32<UInt8>.self) }
    return (low(c0), low(c1), low(c2), low(c3),
            highNibbleBytes(c0), highNibbleBytes(c1), highNibbleBytes(c2), highNibbleBytes(c3))
}

/// The 8 rows' integer block dots with the activation block at `y` (32 int8 values): quad k of `q` against the
/// activation quad at 4k broadcast to every lane, starting from `offset` (-8 Σx), in two chains (the integers are
/// exact in any order).
@inline(__always)
func q4Dots8(_ q: Quads8, _ y: UnsafeRawPointer, _ offset: Int32) -> SIMD8<Int32> {
    var z = SIMD8<Int32>(repeating: offset), u = SIMD8<Int32>()
    z = dotBytes(z, q.0, broadcastQuad(y, 0))
    u = dotBytes(u, q.1, broadcastQuad(y, 4))
    z = dotBytes(z, q.2, broadcastQuad(y, 8))
    u = dotBytes(u, q.3, broadcastQuad(y, 12))
    z = dotBytes(z, q.4, broadcastQuad(y, 16))
    u = dotBytes(u, q.5, broadcastQuad(y, 20))
    z = dotBytes(z, q.6, broadcastQuad(y, 24))
    u = dotBytes(u, q.7, broadcastQuad(y, 28))
    return z &+ u
}
#endif

/// The four bytes at `p + offset` in every 32-bit lane of a 512-bit vector (`{1to16}` in `vpdpbusd`).
@inline(__always)
func broadcastQuad16(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD64<Int8> {
    unsafeBitCast(SIMD16<UInt32>(repeating: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                  to: SIMD64<Int8>.self)
}

/// A Q4 block's 16 nibble bytes as its 32 values (low nibbles, then high nibbles). With GFNI one `vgf2p8affineqb`
/// on the bytes broadcast to both halves: the low half's bit matrix keeps bits 0-3, the high half's moves bits 4-7
/// down (without, LLVM's `vpand`, a shift and `vinserti128`).
@inline(__always)
func splitNibbles(_ y: SIMD16<UInt8>) -> SIMD32<UInt8> {
#if SHIMMY_GFNI
    return affineBytes(SIMD32(lowHalf: y, highHalf: y), SIMD4(lowNibbles, lowNibbles, highNibbles, highNibbles))
#else
    return SIMD32(lowHalf: y & 0x0F, highHalf: y &>> 4)
#endif
}

/// The four bytes at `p + offset` in every 32-bit lane (`vpbroadcastd`, folded into `vpdpbusd` as `{1to8}`).
@inline(__always)
func broadcastQuad(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD32<Int8> {
    unsafeBitCast(SIMD8<UInt32>(repeating: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                  to: SIMD32<Int8>.self)
}

/// Float16 bit patterns to floats (`vcvtph2ps`).
@inline(__always)
func halvesToFloats(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(Float16(bitPattern: h[i])) }
    return r
}

@inline(__always)
func halvesToFloats(_ h: SIMD16<UInt16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(Float16(bitPattern: h[i])) }
    return r
}

@inline(__always)
func toFloat(_ v: SIMD4<Int32>) -> SIMD4<Float> {
    var r = SIMD4<Float>()
    for i in 0..<4 { r[i] = Float(v[i]) }
    return r
}

/// `acc + a · b` per lane, fused.
@inline(__always)
func fma(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = acc[i].addingProduct(a[i], b[i]) }
    return r
}

#endif
