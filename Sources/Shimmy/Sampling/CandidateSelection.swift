/// Partial selection of the best candidates without sorting the whole vocabulary.
///
/// "Better" means a higher logit; equal logits rank the lower token id first, so every result is fully
/// determined by the logits.
enum CandidateSelection {
    /// Whether candidate `(ia, la)` ranks before `(ib, lb)`.
    @inline(__always)
    static func ranksBefore(_ la: Float, _ ia: TokenID, _ lb: Float, _ ib: TokenID) -> Bool {
        la > lb || (la == lb && ia < ib)
    }

    /// Writes the best `k` of the `count` candidates into `outIDs`/`outLogits`, best first.
    /// `ids` nil means candidate `i` is token `i`. `k` must be between 1 and `count`; the inputs are not modified.
    /// Cost: about one vector comparison per 16 candidates once the heap holds good ones, plus O(k log k).
    static func selectTop(
        _ k: Int, ids: UnsafePointer<TokenID>?, logits: UnsafePointer<Float>, count: Int,
        outIDs: UnsafeMutablePointer<TokenID>, outLogits: UnsafeMutablePointer<Float>
    ) {
        // a min-heap (worst at the root) of the best k seen so far
        var size = 0
        var i = 0
        while i < count {
            // skip whole blocks that cannot enter the heap: every value below the worst kept one
            if size == k, i + 16 <= count {
                if blockMaximum(logits + i) < outLogits[0] {
                    i += 16
                    continue
                }
            }
            let l = logits[i]
            let id = ids?[i] ?? TokenID(truncatingIfNeeded: i)
            i += 1
            if size < k {
                var c = size
                size += 1
                // sift up: a worse entry rises towards the root
                while c > 0 {
                    let p = (c - 1) >> 1
                    if ranksBefore(l, id, outLogits[p], outIDs[p]) { break }
                    outLogits[c] = outLogits[p]
                    outIDs[c] = outIDs[p]
                    c = p
                }
                outLogits[c] = l
                outIDs[c] = id
            } else if ranksBefore(l, id, outLogits[0], outIDs[0]) {
                siftDown(l, id, size: size, ids: outIDs, logits: outLogits)
            }
        }
        // heap sort in place: repeatedly move the worst to the end, so the array ends best first
        var end = size
        while end > 1 {
            end -= 1
            let l = outLogits[end]
            let id = outIDs[end]
            outLogits[end] = outLogits[0]
            outIDs[end] = outIDs[0]
            siftDown(l, id, size: end, ids: outIDs, logits: outLogits)
        }
    }

    /// Ranks all `count` candidates best first into `outIDs`/`outLogits` with a stable radix sort on the logits:
    /// O(count), for when most of a large vocabulary must be ordered. Candidates must come in increasing id order
    /// (ties then keep the lower id first). `keys` and `positions` each need room for `2 * count` entries.
    static func rankAll(
        ids: UnsafePointer<TokenID>, logits: UnsafePointer<Float>, count: Int,
        outIDs: UnsafeMutablePointer<TokenID>, outLogits: UnsafeMutablePointer<Float>,
        keys: UnsafeMutablePointer<UInt32>, positions: UnsafeMutablePointer<Int32>
    ) {
        let order = rankPositions(logits: logits, count: count, keys: keys, positions: positions)
        for i in 0..<count {
            let from = Int(order[i])
            outIDs[i] = ids[from]
            outLogits[i] = logits[from]
        }
    }

    /// The positions `0..<count` ordered best first (stable: equal logits keep their order), by a radix sort of the
    /// logits. Returns a pointer into `positions`; `keys` and `positions` need room for `2 * count` entries.
    static func rankPositions(
        logits: UnsafePointer<Float>, count: Int, keys: UnsafeMutablePointer<UInt32>,
        positions: UnsafeMutablePointer<Int32>
    ) -> UnsafeMutablePointer<Int32> {
        var keyIn = keys
        var keyOut = keys + count
        var posIn = positions
        var posOut = positions + count
        for i in 0..<count {
            keyIn[i] = descendingKey(logits[i])
            posIn[i] = Int32(truncatingIfNeeded: i)
        }
        let histogram = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        defer { histogram.deallocate() }
        for shift in stride(from: 0, to: 32, by: 8) {
            for b in 0..<256 { histogram[b] = 0 }
            for i in 0..<count { histogram[Int((keyIn[i] >> UInt32(shift)) & 0xFF)] += 1 }
            // a byte that is the same everywhere needs no pass
            var uniform = false
            for b in 0..<256 where histogram[b] == count { uniform = true }
            if uniform { continue }
            var offset = 0
            for b in 0..<256 {
                let n = histogram[b]
                histogram[b] = offset
                offset += n
            }
            for i in 0..<count {
                let byte = Int((keyIn[i] >> UInt32(shift)) & 0xFF)
                let to = histogram[byte]
                histogram[byte] = to + 1
                keyOut[to] = keyIn[i]
                posOut[to] = posIn[i]
            }
            swap(&keyIn, &keyOut)
            swap(&posIn, &posOut)
        }
        return posIn
    }

    /// The largest of 16 values from `p` (a NaN may or may not win). Four scalar chains, which the compiler
    /// turns into vector code; the stdlib's generic SIMD comparisons and reductions are not inlined.
    @inline(__always)
    static func blockMaximum(_ p: UnsafePointer<Float>) -> Float {
        var m0 = p[0], m1 = p[1], m2 = p[2], m3 = p[3]
        for j in stride(from: 4, to: 16, by: 4) {
            m0 = Swift.max(m0, p[j])
            m1 = Swift.max(m1, p[j + 1])
            m2 = Swift.max(m2, p[j + 2])
            m3 = Swift.max(m3, p[j + 3])
        }
        return Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
    }

    /// A key whose ascending order is the float's descending order (NaN sorts with the extremes, never crashes).
    @inline(__always)
    static func descendingKey(_ value: Float) -> UInt32 {
        // -0 and +0 are equal logits: one key, so the id decides as it does in `ranksBefore`
        let bits = value == 0 ? 0 : value.bitPattern
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ascending
    }

    /// The index of the largest value, the lowest index among equals; NaN never wins; 0 when nothing beats -inf.
    static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        // pass 1: the maximum, 16 at a time
        var best = -Float.infinity
        var i = 0
        while i + 16 <= count {
            let m = blockMaximum(values + i)
            // a NaN from the block falls back to the exact scalar scan
            if m.isNaN {
                for j in i..<(i + 16) where values[j] > best { best = values[j] }
            } else if m > best {
                best = m
            }
            i += 16
        }
        while i < count {
            if values[i] > best { best = values[i] }
            i += 1
        }
        guard best > -.infinity else { return 0 }
        // pass 2: the first index holding it
        for j in 0..<count where values[j] == best { return j }
        return 0
    }

    /// Puts `(l, id)` at the root of the min-heap of `size` entries and restores the heap order.
    @inline(__always)
    private static func siftDown(
        _ l: Float, _ id: TokenID, size: Int, ids: UnsafeMutablePointer<TokenID>,
        logits: UnsafeMutablePointer<Float>
    ) {
        var c = 0
        while true {
            var child = 2 * c + 1
            if child >= size { break }
            // pick the worse child
            if child + 1 < size, ranksBefore(logits[child], ids[child], logits[child + 1], ids[child + 1]) {
                child += 1
            }
            // stop once the entry is no better than the worse child
            if !ranksBefore(l, id, logits[child], ids[child]) { break }
            logits[c] = logits[child]
            ids[c] = ids[child]
            c = child
        }
        logits[c] = l
        ids[c] = id
    }
}
