// Small SIMD helpers for the dot-product kernels. The stdlib's generic SIMD conversions are not inlined, so each
// conversion is an `@inline(__always)` element loop that LLVM turns into one vector instruction.

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

/// `acc + a · b` per lane, fused.
@inline(__always)
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

/// The sum of 16 lanes as a fixed tree (halves added pairwise), so the order never depends on the caller.
@inline(__always)
func treeSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// The Float16 stored at `p` (unaligned) as a float. Loads 8 bytes as a whole register and converts four lanes:
/// loading 2 bytes into a lane (`vpinsrw`) merges into whatever register LLVM picks, often the accumulator, which
/// made every block wait for the previous block's FMA (Q4_0 mat-vec 2x slower). The caller guarantees 8 readable bytes
/// (every use is at the start of a block of 18 bytes or more).
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer) -> Float {
    let h = p.loadUnaligned(as: SIMD4<UInt16>.self)
    var r = SIMD4<Float>()
    for k in 0..<4 { r[k] = Float(Float16(bitPattern: h[k])) }
    return r[0]
}
