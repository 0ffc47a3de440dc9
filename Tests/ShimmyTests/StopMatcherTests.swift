import Foundation
import Shimmy
import Testing

/// Feeds `chunks` through a matcher; returns everything emitted (plus `finish()` when not stopped) and the stop flag.
private func run(_ stops: [String], _ chunks: [String]) -> (text: String, stopped: Bool) {
    var matcher = StopMatcher(stops: stops)
    var out = ""
    for chunk in chunks {
        let (emit, stopped) = matcher.feed(chunk)
        out += emit
        if stopped { return (out, true) }
    }
    return (out + matcher.finish(), false)
}

@Suite("StopMatcher")
struct StopMatcherTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var stops: [String]
        var chunks: [String]
        var text: String
        var stopped: Bool
        var testDescription: String { "\(stops) over \(chunks)" }
    }

    static let cases: [Case] = [
        Case(stops: ["</s>"], chunks: ["Hello <", "/", "s> more"], text: "Hello ", stopped: true),
        Case(stops: ["</s>"], chunks: ["Hello </", "x> more"], text: "Hello </x> more", stopped: false),
        Case(stops: ["\nUser:"], chunks: ["Sure.", "\n", "Us", "er", ":", " hi"], text: "Sure.", stopped: true),
        Case(stops: ["aab"], chunks: ["a", "a", "a", "b", "c"], text: "a", stopped: true),
        Case(stops: ["abab"], chunks: ["ab", "ab", "ab"], text: "", stopped: true),
        Case(stops: ["xyz", "y"], chunks: ["axy"], text: "ax", stopped: true),
        Case(stops: ["END", "STOP"], chunks: ["one STO", "P two END"], text: "one ", stopped: true),
        Case(stops: ["END", "STOP"], chunks: ["one ENDSTOP"], text: "one ", stopped: true),
        Case(stops: [], chunks: ["a", "b"], text: "ab", stopped: false),
        Case(stops: [""], chunks: ["a", "b"], text: "ab", stopped: false),
        Case(stops: ["ü"], chunks: ["gr", "ün"], text: "gr", stopped: true),
        Case(stops: ["👋🏽"], chunks: ["hi ", "👋", "🏽", "!"], text: "hi ", stopped: true),
        Case(stops: ["👋🏽"], chunks: ["hi ", "👋", "!"], text: "hi 👋!", stopped: false),
        Case(stops: ["日本"], chunks: ["こんにち", "は日", "本語"], text: "こんにちは", stopped: true),
        Case(stops: ["ab"], chunks: ["xa"], text: "xa", stopped: false),
    ]

    @Test("streams stop where expected", arguments: cases)
    func streams(_ c: Case) {
        let result = run(c.stops, c.chunks)
        #expect(result.text == c.text, "emitted \(result.text.debugDescription)")
        #expect(result.stopped == c.stopped)
    }

    @Test("holds back a possible stop beginning until it is decided")
    func holdsBack() {
        var matcher = StopMatcher(stops: ["<|im_end|>"])
        #expect(matcher.feed("Hi<|im") == ("Hi", false))
        #expect(matcher.feed("_e") == ("", false))
        #expect(matcher.feed("x") == ("<|im_ex", false))
        #expect(matcher.feed("<|") == ("", false))
        #expect(matcher.finish() == "<|")
        #expect(matcher.finish() == "")
    }

    @Test("after a stop, later text is dropped")
    func afterStop() {
        var matcher = StopMatcher(stops: ["."])
        #expect(matcher.feed("a.b") == ("a", true))
        #expect(matcher.stopped)
        #expect(matcher.feed("more") == ("", true))
        #expect(matcher.finish() == "")
    }

    @Test("random chunkings never leak a stop and agree with a whole-text search",
          arguments: ["ab", "aab", "abab", "ba a"])
    func randomChunkings(stop: String) {
        var rng = RandomSource(seed: UInt64(stop.utf8.count * 31 + 7))
        let alphabet = Array("ab ")
        for trial in 0..<300 {
            let length = Int(rng.next() % 12)
            let text = String((0..<length).map { _ in alphabet[Int(rng.next() % 3)] })
            var chunks: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty {
                let n = 1 + Int(rng.next() % 3)
                chunks.append(String(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            let expected: String
            if let r = text.range(of: stop) {
                expected = String(text[..<r.lowerBound])
            } else {
                expected = text
            }
            let result = run([stop], chunks)
            #expect(result.text == expected, "trial \(trial): \(chunks) gave \(result.text.debugDescription)")
            #expect(result.stopped == (text.range(of: stop) != nil))
            #expect(!result.text.contains(stop))
        }
    }
}
