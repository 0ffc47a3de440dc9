/// Finds stop strings in streamed text so that the text handed on never contains one, even when a stop string
/// is split across tokens.
///
/// Text that could be the start of a stop string is held back until the next chunk decides. Matching is on
/// UTF-8 bytes, so it is exact (no Unicode normalization) and every cut falls on a character boundary.
///
/// ```swift
/// var matcher = StopMatcher(stops: ["\nUser:"])
/// let (text, stopped) = matcher.feed(chunk)   // send `text`; end generation when `stopped`
/// let rest = matcher.finish()                // at the end: the text still held back
/// ```
public struct StopMatcher: Sendable {
    /// The stop strings as UTF-8, empty ones left out.
    private let stops: [[UInt8]]
    /// Text received but not yet emitted: a possible beginning of a stop string.
    private var pending: [UInt8] = []
    /// Whether a stop string has been seen; later input is ignored.
    public private(set) var stopped = false

    /// A matcher for `stops` (empty strings are ignored; no stops means every chunk passes straight through).
    public init(stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
    }

    /// Takes the next chunk of text. Returns the text that is safe to emit now and whether a stop string
    /// was found; after a stop, the text before it has been emitted and everything else is dropped.
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stopped else { return ("", true) }
        if stops.isEmpty { return (text, false) }
        pending.append(contentsOf: text.utf8)
        if let start = earliestMatch() {
            let emit = String(decoding: pending[..<start], as: UTF8.self)
            pending.removeAll()
            stopped = true
            return (emit, true)
        }
        let cut = pending.count - longestHeldSuffix()
        let emit = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return (emit, false)
    }

    /// Ends the stream: returns the text still held back (empty after a stop) and clears it.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return stopped ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// The start of the earliest complete stop string in `pending`.
    private func earliestMatch() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            let lastStart = min(pending.count - stop.count, (best ?? Int.max) - 1)
            guard lastStart >= 0 else { continue }
            for start in 0...lastStart where matches(stop, at: start, length: stop.count) {
                best = start
                break
            }
        }
        return best
    }

    /// The length of the longest end of `pending` that is a proper beginning of some stop string.
    private func longestHeldSuffix() -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, pending.count)
            while length > longest {
                if matches(stop, at: pending.count - length, length: length) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }

    /// Whether `pending[start..<start+length]` equals the first `length` bytes of `stop`.
    private func matches(_ stop: [UInt8], at start: Int, length: Int) -> Bool {
        for j in 0..<length where pending[start + j] != stop[j] { return false }
        return true
    }
}
