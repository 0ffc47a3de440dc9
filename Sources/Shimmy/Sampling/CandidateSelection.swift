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
    /// `k` must be between 1 and `count`; the inputs are not modified. Cost: O(count + k log k) for small k.
    static func selectTop(
        _ k: Int, ids: UnsafePointer<TokenID>, logits: UnsafePointer<Float>, count: Int,
        outIDs: UnsafeMutablePointer<TokenID>, outLogits: UnsafeMutablePointer<Float>
    ) {
        // a min-heap (worst at the root) of the best k seen so far
        var size = 0
        for i in 0..<count {
            let l = logits[i]
            let id = ids[i]
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
