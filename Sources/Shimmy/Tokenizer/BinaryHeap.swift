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
