// AVX-512 VNNI and AVX2 byte instructions that LLVM never selects from portable SIMD code (Swift has no spelling
// for them), as inlinable wrappers of LLVM's target intrinsics. This module is compiled with `-parse-stdlib`, which
// exposes `Builtin.int_<name>` (the LLVM intrinsic `llvm.<name>`, dots as underscores) and the builtin vector types
// behind the standard library's SIMD types (an overloaded intrinsic takes its types as suffixes:
// `int_prefetch_RawPointer`); a build without unsafe flags has no `-parse-stdlib` and gets an empty `prefetch` only.
// Except for `prefetch`, compiled only when the build targets a CPU with AVX-512 VNNI (SHIMMY_AVX512VNNI, set by
// Package.swift; GFNI: SHIMMY_GFNI); the callers keep portable kernels for other CPUs.
import Swift

#if SHIMMY_BUILTINS

/// `prefetcht0`: asks for the cache line at `p` ahead of its use (no fault for any address; LLVM's `llvm.prefetch`,
/// read, high locality, data cache). Not x86-specific, so outside the VNNI guard.
@inlinable @inline(__always)
public func prefetch(_ p: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(p._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
}

#else

/// Without `-parse-stdlib` (a build without unsafe flags, see Package.swift) there is no prefetch: a hint only.
@inlinable @inline(__always)
public func prefetch(_ p: UnsafeRawPointer) {}

#endif

#if SHIMMY_AVX512VNNI

/// `vpdpbusd` (256-bit): lane i of the result is `acc[i] + Σ_{k<4} u[4i+k] · s[4i+k]`, with `u` read as unsigned
/// and `s` as signed bytes (exact: the products and their sum fit in Int32 without saturation).
@inlinable @inline(__always)
public func dotBytes(_ acc: SIMD8<Int32>, _ u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD8<Int32> {
    let a = unsafeBitCast(u, to: SIMD8<Int32>.self), b = unsafeBitCast(s, to: SIMD8<Int32>.self)
    var r = acc
    r._storage._value = Builtin.int_x86_avx512_vpdpbusd_256(acc._storage._value, a._storage._value,
                                                           b._storage._value)
    return r
}

/// `vpdpbusd` (512-bit): `dotBytes` on 64 bytes. Zen 5 issues it at the 256-bit form's rate (two per cycle), so
/// it does twice the products per instruction.
@inlinable @inline(__always)
public func dotBytes(_ acc: SIMD16<Int32>, _ u: SIMD64<UInt8>, _ s: SIMD64<Int8>) -> SIMD16<Int32> {
    let a = unsafeBitCast(u, to: SIMD16<Int32>.self), b = unsafeBitCast(s, to: SIMD16<Int32>.self)
    var r = acc
    r._storage._value = Builtin.int_x86_avx512_vpdpbusd_512(acc._storage._value, a._storage._value,
                                                           b._storage._value)
    return r
}

/// `vphaddd` (256-bit): per 128-bit half, the sums of adjacent pairs of `a`, then of `b`:
/// `[a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7]`.
@inlinable @inline(__always)
public func pairSums(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
    var r = a
    r._storage._value = Builtin.int_x86_avx2_phadd_d(a._storage._value, b._storage._value)
    return r
}

/// `vpermt2d` (256-bit): lane i of the result is lane `index[i] & 15` of the 16 lanes `a` then `b`. With constant
/// indices LLVM selects the cheapest shuffle for the pattern (`vpunpckldq`, `vpunpcklqdq`, ...).
@inlinable @inline(__always)
public func permute(_ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>, _ index: SIMD8<UInt32>) -> SIMD8<UInt32> {
    var r = a
    r._storage._value = Builtin.int_x86_avx512_vpermi2var_d_256(a._storage._value, index._storage._value,
                                                               b._storage._value)
    return r
}

/// `vpermt2d` (512-bit): lane i of the result is lane `index[i] & 31` of the 32 lanes `a` then `b`.
@inlinable @inline(__always)
public func permute(_ a: SIMD16<UInt32>, _ b: SIMD16<UInt32>, _ index: SIMD16<UInt32>) -> SIMD16<UInt32> {
    var r = a
    r._storage._value = Builtin.int_x86_avx512_vpermi2var_d_512(a._storage._value, index._storage._value,
                                                               b._storage._value)
    return r
}

/// `vpermps` (512-bit): lane i of the result is lane `index[i] & 15` of `a`.
@inlinable @inline(__always)
public func permute(_ a: SIMD16<Float>, _ index: SIMD16<UInt32>) -> SIMD16<Float> {
    var r = a
    r._storage._value = Builtin.int_x86_avx512_permvar_sf_512(a._storage._value, index._storage._value)
    return r
}

/// `vpermt2ps` (512-bit): lane i of the result is lane `index[i] & 31` of the 32 lanes `a` then `b`.
@inlinable @inline(__always)
public func permute(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ index: SIMD16<UInt32>) -> SIMD16<Float> {
    var r = a
    r._storage._value = Builtin.int_x86_avx512_vpermi2var_ps_512(a._storage._value, index._storage._value,
                                                                b._storage._value)
    return r
}

/// `vpermps` (256-bit): lane i of the result is lane `index[i] & 7` of `a`. LLVM turns a constant index into the
/// shuffle it prefers, or into scalar code around a lane it extracts; an index it cannot see keeps `vpermps`.
@inlinable @inline(__always)
public func permute(_ a: SIMD8<Float>, _ index: SIMD8<Int32>) -> SIMD8<Float> {
    var r = a
    r._storage._value = Builtin.int_x86_avx2_permps(a._storage._value, index._storage._value)
    return r
}

#if SHIMMY_GFNI
/// `vgf2p8affineqb` (256-bit, GFNI) with a zero constant: byte i of the result is the 8x8 bit matrix in 64-bit lane
/// i / 8 of `matrix` applied to byte i of `x` (result bit b is the parity of `x & matrix.byte[7 - b]`). One
/// instruction can shift and mask each half of a vector differently: the Q4_1 tiles split a block's 16 nibble bytes,
/// broadcast to both halves, into its 32 values with it.
@inlinable @inline(__always)
public func affineBytes(_ x: SIMD32<UInt8>, _ matrix: SIMD4<UInt64>) -> SIMD32<UInt8> {
    let m = unsafeBitCast(matrix, to: SIMD32<UInt8>.self)
    var r = x
    r._storage._value = Builtin.int_x86_vgf2p8affineqb_256(x._storage._value, m._storage._value,
                                                          Builtin.zeroInitializer())
    return r
}

/// `vgf2p8affineqb` (512-bit): `affineBytes` on 64 bytes, matrix j for bytes 8j..8j+7.
@inlinable @inline(__always)
public func affineBytes(_ x: SIMD64<UInt8>, _ matrix: SIMD8<UInt64>) -> SIMD64<UInt8> {
    let m = unsafeBitCast(matrix, to: SIMD64<UInt8>.self)
    var r = x
    r._storage._value = Builtin.int_x86_vgf2p8affineqb_512(x._storage._value, m._storage._value,
                                                          Builtin.zeroInitializer())
    return r
}

#endif

#endif
