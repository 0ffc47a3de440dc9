/// Something a `BinaryHeap` can order: `before` is true when `self` must come out first.
protocol HeapOrdered {
    func before(_ other: Self) -> Bool
}

/// A binary min-heap (by `before`) of merge candidates, shared by the BPE and SentencePiece merge loops.
struct BinaryHeap<Element: HeapOrdered> {
    private var heap: [Element] = []

    mutating func push(_ item: Element) {
        heap.append(item)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].before(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < heap.count && heap[l].before(heap[best]) { best = l }
                if r < heap.count && heap[r].before(heap[best]) { best = r }
                if best == i { break }
                heap.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}

/// A word's symbols during a merge loop (BPE and SentencePiece): a linked list over the positions where symbols
/// start, each with its size (0 once merged into its left neighbour).
struct MergeChain {
    private(set) var size: [Int]
    private(set) var prev: [Int]
    private(set) var next: [Int]

    init(sizes: [Int]) {
        size = sizes
        prev = sizes.indices.map { $0 - 1 }
        next = sizes.indices.map { $0 + 1 < sizes.count ? $0 + 1 : -1 }
    }

    /// Whether a pair queued when its two symbols together had `size` is still there: llama.cpp skips pairs
    /// that an earlier merge changed.
    func isCurrent(_ left: Int, _ right: Int, size joined: Int) -> Bool {
        size[left] != 0 && size[right] != 0 && size[left] + size[right] == joined
    }

    /// Merges the symbol at `right` into its left neighbour at `left`.
    mutating func join(_ left: Int, _ right: Int) {
        size[left] += size[right]
        size[right] = 0
        next[left] = next[right]
        if next[right] >= 0 { prev[next[right]] = left }
    }

    /// Where the remaining symbols start, in order.
    var starts: [Int] {
        var out: [Int] = []
        var i = size.isEmpty ? -1 : 0
        while i >= 0 {
            out.append(i)
            i = next[i]
        }
        return out
    }
}
