import Foundation
import Testing

@testable import Shimmy

/// Runs `draws` samples over fixed `logits` (nothing accepted) and counts how often each id came out.
private func histogram(_ logits: [Float], _ parameters: SamplingParameters, draws: Int) -> [Int] {
    var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
    var counts = [Int](repeating: 0, count: logits.count)
    logits.withUnsafeBufferPointer { p in
        for _ in 0..<draws { counts[Int(sampler.sample(p.baseAddress!))] += 1 }
    }
    return counts
}

private func sampleOnce(_ sampler: inout Sampler, _ logits: [Float]) -> TokenID {
    logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!) }
}

/// Ids that were drawn at least once.
private func drawn(_ counts: [Int]) -> Set<Int> {
    Set(counts.indices.filter { counts[$0] > 0 })
}

private func softmax(_ logits: [Float], temperature: Float = 1) -> [Double] {
    let scaled = logits.map { Double($0 / temperature) }
    let m = scaled.max() ?? 0
    let e = scaled.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// Deterministic pseudo-random logits in [-scale, scale].
private func randomLogits(_ count: Int, seed: UInt64, scale: Double = 8) -> [Float] {
    var rng = RandomSource(seed: seed)
    return (0..<count).map { _ in Float((rng.nextUnitInterval() * 2 - 1) * scale) }
}

@Suite("Sampler")
struct SamplerTests {
    @Test("greedy picks the highest logit, the lowest id among ties, and leaves the logits alone")
    func greedy() {
        let logits: [Float] = [0.5, 3, -1, 3, 2.9]
        var sampler = Sampler(parameters: .greedy, vocabularySize: logits.count)
        let token = sampleOnce(&sampler, logits)
        #expect(token == 1, "greedy chose \(token)")
        #expect(logits == [0.5, 3, -1, 3, 2.9])
        let nanFirst: [Float] = [.nan, -2, 5, .nan]
        var nanSampler = Sampler(parameters: .greedy, vocabularySize: 4)
        #expect(sampleOnce(&nanSampler, nanFirst) == 2)
    }

    @Test("negative temperature is greedy too")
    func negativeTemperature() {
        let logits = randomLogits(1000, seed: 3)
        let best = logits.indices.max { logits[$0] < logits[$1] }!
        var sampler = Sampler(parameters: SamplingParameters(temperature: -1, seed: 1), vocabularySize: 1000)
        for _ in 0..<5 { #expect(sampleOnce(&sampler, logits) == TokenID(best)) }
    }

    @Test("a vanishing temperature picks the best token (the logits overflow to +inf)",
          arguments: [(0, Float(1)), (40, 0.95), (0, 0.95)])
    func tinyTemperature(topK: Int, topP: Float) {
        let logits = randomLogits(1000, seed: 5)
        let best = logits.indices.max { logits[$0] < logits[$1] }!
        for t in [Float(1e-30), 1e-40, .leastNonzeroMagnitude] {
            var sampler = Sampler(parameters: SamplingParameters(temperature: t, topK: topK, topP: topP, minP: 0, seed: 2),
                                  vocabularySize: 1000)
            for _ in 0..<3 { #expect(sampleOnce(&sampler, logits) == TokenID(best), "temperature \(t)") }
        }
    }

    @Test("top-k keeps only the k best", arguments: [1, 3, 10])
    func topK(k: Int) {
        let logits = randomLogits(500, seed: 11, scale: 1)
        let params = SamplingParameters(temperature: 5, topK: k, topP: 1, minP: 0, seed: 9)
        let seen = drawn(histogram(logits, params, draws: 3000))
        let expected = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(k))
        #expect(seen == expected, "drawn \(seen.sorted()), expected \(expected.sorted())")
    }

    @Test("top-p keeps the smallest prefix reaching p")
    func topP() {
        // probabilities 0.5, 0.3, 0.15, 0.05
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(Foundation.log($0)) }
        for topK in [0, 40] {
            let params = SamplingParameters(temperature: 1, topK: topK, topP: 0.75, minP: 0, seed: 5)
            let counts = histogram(logits, params, draws: 4000)
            #expect(drawn(counts) == [0, 1], "top-k \(topK): counts \(counts)")
            // renormalised over the kept two: 0.625 / 0.375
            let share = Double(counts[0]) / 4000
            #expect(abs(share - 0.625) < 0.03, "share of id 0: \(share)")
        }
    }

    @Test("top-p without top-k ranks past its first 256 guesses on a flat distribution")
    func topPFlat() {
        let n = 2000
        let logits = [Float](repeating: 0, count: n)
        let params = SamplingParameters(temperature: 1, topK: 0, topP: 0.5, minP: 0, seed: 21)
        let seen = drawn(histogram(logits, params, draws: 5000))
        // equal logits rank by id, so the kept prefix is ids 0..<~1000
        let maxSeen = seen.max() ?? -1
        #expect(maxSeen >= 900 && maxSeen <= 1001, "highest id drawn \(maxSeen)")
    }

    @Test("min-p keeps tokens with at least p times the best probability", arguments: [0, 40])
    func minP(topK: Int) {
        let logits: [Float] = [-2, 0, -1, -5, -1.7]
        // threshold: 0 + ln(0.2) = -1.609
        let params = SamplingParameters(temperature: 1, topK: topK, topP: 1, minP: 0.2, seed: 4)
        let seen = drawn(histogram(logits, params, draws: 3000))
        #expect(seen == [1, 2], "drawn \(seen.sorted())")
    }

    @Test("repeat penalty divides positive logits and multiplies negative ones")
    func repeatPenalty() {
        let params = SamplingParameters(temperature: 0, repeatPenalty: 2)
        var positive = Sampler(parameters: params, vocabularySize: 3)
        #expect(sampleOnce(&positive, [2.0, 1.9, -1]) == 0)
        positive.accept(0)
        #expect(sampleOnce(&positive, [2.0, 1.9, -1]) == 1, "2.0 / 2 should fall below 1.9")

        var negative = Sampler(parameters: params, vocabularySize: 2)
        negative.accept(0)
        #expect(sampleOnce(&negative, [-1.0, -1.5]) == 1, "-1 * 2 should fall below -1.5")
    }

    @Test("logit bias is added before everything else: -100 bans the best token, +100 forces one; ids beyond the vocabulary are ignored")
    func logitBias() {
        let logits = randomLogits(1000, seed: 11)
        let best = TokenID(logits.indices.max { logits[$0] < logits[$1] }!)
        var banned = Sampler(parameters: SamplingParameters(temperature: 0, logitBias: [best: -100, 5000: 3]),
                             vocabularySize: 1000)
        var next = logits
        next[Int(best)] = -.infinity
        #expect(sampleOnce(&banned, logits) == Sampler.argmax(next, count: 1000))
        #expect(logits == randomLogits(1000, seed: 11), "the caller's logits were written")
        let worst = TokenID(logits.indices.min { logits[$0] < logits[$1] }!)
        let forced = histogram(logits, SamplingParameters(temperature: 1, seed: 3, logitBias: [worst: 100]), draws: 200)
        #expect(forced[Int(worst)] == 200)
        // before the penalties, as llama.cpp's chain: the repeat penalty divides the biased logit, (3 + 1) / 2 = 2,
        // which 2.1 beats (penalized first, 3 / 2 + 1 = 2.5 would win)
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, repeatPenalty: 2, logitBias: [0: 1]),
                              vocabularySize: 2)
        sampler.accept(0)
        #expect(sampleOnce(&sampler, [3, 1.9]) == 0)
        #expect(sampleOnce(&sampler, [3, 2.1]) == 1)
    }

    @Test("frequency penalty grows with the count, presence penalty does not")
    func frequencyAndPresence() {
        let logits: [Float] = [1.0, 0.5]
        var frequency = Sampler(parameters: SamplingParameters(temperature: 0, frequencyPenalty: 0.3),
                                vocabularySize: 2)
        frequency.accept(0)
        #expect(sampleOnce(&frequency, logits) == 0, "1 - 0.3 is still above 0.5")
        frequency.accept(0)
        #expect(sampleOnce(&frequency, logits) == 1, "1 - 0.6 is below 0.5")

        var presence = Sampler(parameters: SamplingParameters(temperature: 0, presencePenalty: 0.4),
                               vocabularySize: 2)
        presence.accept(0)
        presence.accept(0)
        presence.accept(0)
        #expect(sampleOnce(&presence, [1.0, 0.55]) == 0, "presence subtracts 0.4 once")
        #expect(sampleOnce(&presence, [1.0, 0.65]) == 1)
    }

    @Test("penalties only look at the last n tokens")
    func penaltyWindow() {
        let logits: [Float] = [2.0, 1.9, 0, 0]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, repeatPenalty: 2, repeatLastN: 2),
                              vocabularySize: 4)
        sampler.accept(0)
        #expect(sampleOnce(&sampler, logits) == 1)
        sampler.accept(2)
        sampler.accept(3)
        #expect(sampleOnce(&sampler, logits) == 0, "token 0 left the window")

        var off = Sampler(parameters: SamplingParameters(temperature: 0, repeatPenalty: 2, repeatLastN: 0),
                          vocabularySize: 4)
        off.accept(0)
        #expect(sampleOnce(&off, logits) == 0, "repeatLastN 0 disables penalties")

        var whole = Sampler(parameters: SamplingParameters(temperature: 0, repeatPenalty: 2, repeatLastN: -1),
                            vocabularySize: 4)
        whole.accept(0)
        for _ in 0..<500 { whole.accept(3) }
        #expect(sampleOnce(&whole, logits) == 1, "repeatLastN -1 remembers everything")
        whole.accept(-7)
        whole.accept(99)
        #expect(sampleOnce(&whole, logits) == 1, "out-of-range ids are ignored")
    }

    @Test("the same seed gives the same tokens; another seed gives others")
    func seedDeterminism() {
        let logits = randomLogits(49152, seed: 77, scale: 3)
        func run(seed: UInt64) -> [TokenID] {
            var s = Sampler(parameters: SamplingParameters(temperature: 1.2, topK: 0, topP: 0.98, minP: 0,
                                                           repeatPenalty: 1.1, seed: seed),
                            vocabularySize: logits.count)
            var out: [TokenID] = []
            for _ in 0..<100 {
                let t = sampleOnce(&s, logits)
                s.accept(t)
                out.append(t)
            }
            return out
        }
        let a = run(seed: 1234)
        let b = run(seed: 1234)
        let c = run(seed: 1235)
        #expect(a == b, "first difference at \(String(describing: a.indices.first { a[$0] != b[$0] }))")
        #expect(a != c)
    }

    @Test("draws follow softmax(logits / temperature)", arguments: [Float(1), 0.5, 2])
    func distribution(temperature: Float) {
        let logits: [Float] = [1.0, 0.2, -0.5, 2.0, 0.0, -1.5, 1.4, 0.7]
        let draws = 40000
        let params = SamplingParameters(temperature: temperature, topK: 0, topP: 1, minP: 0, seed: 99)
        let counts = histogram(logits, params, draws: draws)
        let expected = softmax(logits, temperature: temperature)
        let observed = counts.map { Double($0) / Double(draws) }
        let worst = zip(observed, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 0.012, "observed \(observed), expected \(expected)")
    }

    @Test("default chain on a full vocabulary stays inside the top 40")
    func defaultChain() {
        let logits = randomLogits(49152, seed: 5, scale: 4)
        let top40 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(40))
        let seen = drawn(histogram(logits, SamplingParameters(seed: 8), draws: 300))
        #expect(seen.isSubset(of: top40), "outside the top 40: \(seen.subtracting(top40).sorted())")
    }

    @Test("partial selection equals a full sort", arguments: [1, 7, 40, 256, 1000])
    func selection(k: Int) {
        let n = 1000
        // few distinct values, so ties are common
        let logits = randomLogits(n, seed: UInt64(k), scale: 4).map { ($0 * 2).rounded() / 2 }
        let ids = (0..<n).map { TokenID($0) }
        var outIDs = [TokenID](repeating: -1, count: k)
        var outLogits = [Float](repeating: 0, count: k)
        ids.withUnsafeBufferPointer { i in
            logits.withUnsafeBufferPointer { l in
                outIDs.withUnsafeMutableBufferPointer { oi in
                    outLogits.withUnsafeMutableBufferPointer { ol in
                        CandidateSelection.selectTop(k, ids: i.baseAddress!, logits: l.baseAddress!, count: n,
                                                     outIDs: oi.baseAddress!, outLogits: ol.baseAddress!)
                    }
                }
            }
        }
        let expected = ids.sorted { logits[Int($0)] > logits[Int($1)] || (logits[Int($0)] == logits[Int($1)] && $0 < $1) }
        #expect(outIDs == Array(expected.prefix(k)), "first ids \(outIDs.prefix(8)) vs \(expected.prefix(8))")
        #expect(outLogits == outIDs.map { logits[Int($0)] })
    }

    @Test("random source: unit interval values stay in [0, 1) and average 0.5")
    func randomSource() {
        var rng = RandomSource(seed: 0)
        var sum = 0.0
        for _ in 0..<100_000 {
            let u = rng.nextUnitInterval()
            #expect(u >= 0 && u < 1)
            sum += u
        }
        #expect(abs(sum / 100_000 - 0.5) < 0.01, "mean \(sum / 100_000)")
        var a = RandomSource(seed: 42)
        var b = RandomSource(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    }

    @Test("an empty vocabulary and bad penalties do not crash")
    func edgeCases() {
        var empty = Sampler(parameters: SamplingParameters(), vocabularySize: 0)
        #expect(sampleOnce(&empty, [3]) == 0)
        var bad = Sampler(parameters: SamplingParameters(temperature: 0, repeatPenalty: 0, frequencyPenalty: .nan),
                          vocabularySize: 2)
        bad.accept(0)
        #expect(sampleOnce(&bad, [1, 0.5]) == 0, "a repeat penalty of 0 is treated as off")
        var allInf = Sampler(parameters: SamplingParameters(temperature: 1, seed: 1), vocabularySize: 3)
        let t = sampleOnce(&allInf, [-.infinity, -.infinity, -.infinity])
        #expect((0..<3).contains(t))
    }
    @Test("radix ranking equals a full sort, ties by id", arguments: [UInt64(1), 2, 3])
    func radixRank(seed: UInt64) {
        let n = 3000
        // coarse values (many ties), both signs, zeros of both signs and infinities
        var logits = randomLogits(n, seed: seed, scale: 20).map { ($0 / 4).rounded() * 4 }
        logits[7] = -0.0
        logits[8] = 0.0
        logits[9] = .infinity
        logits[10] = -.infinity
        let ids = (0..<n).map { TokenID($0) }
        var outIDs = [TokenID](repeating: -1, count: n)
        var outLogits = [Float](repeating: 0, count: n)
        var keys = [UInt32](repeating: 0, count: 2 * n)
        var positions = [Int32](repeating: 0, count: 2 * n)
        ids.withUnsafeBufferPointer { i in
            logits.withUnsafeBufferPointer { l in
                outIDs.withUnsafeMutableBufferPointer { oi in
                    outLogits.withUnsafeMutableBufferPointer { ol in
                        keys.withUnsafeMutableBufferPointer { k in
                            positions.withUnsafeMutableBufferPointer { p in
                                CandidateSelection.rankAll(ids: i.baseAddress!, logits: l.baseAddress!, count: n,
                                                           outIDs: oi.baseAddress!, outLogits: ol.baseAddress!,
                                                           keys: k.baseAddress!, positions: p.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        // -0.0 and 0.0 are equal logits, so the id decides between them too
        let expected = ids.sorted {
            let a = logits[Int($0)], b = logits[Int($1)]
            return a > b || (a == b && $0 < $1)
        }
        let firstDifference = outIDs.indices.first { outIDs[$0] != expected[$0] }
        #expect(firstDifference == nil, "first difference at \(String(describing: firstDifference))")
        #expect(outLogits == outIDs.map { logits[Int($0)] })
    }

    @Test("top-p over a large vocabulary without top-k keeps exactly the nucleus")
    func nucleus() {
        let n = 5000
        let logits = randomLogits(n, seed: 31, scale: 3)
        let p: Float = 0.7
        // the nucleus, computed the way llama.cpp does: softmax in id order, cumulative in ranked order
        let maxLogit = logits.max()!
        var sum: Float = 0
        for l in logits { sum += Foundation.exp(l - maxLogit) }
        let ranked = (0..<n).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var cumulative: Float = 0
        var nucleus = Set<Int>()
        for id in ranked {
            nucleus.insert(id)
            cumulative += Foundation.exp(logits[id] - maxLogit) / sum
            if cumulative >= p { break }
        }
        #expect(nucleus.count > 256, "the nucleus should need more than the first guess: \(nucleus.count)")
        let seen = drawn(histogram(logits, SamplingParameters(temperature: 1, topK: 0, topP: p, minP: 0, seed: 2),
                                   draws: 4000))
        #expect(seen.isSubset(of: nucleus), "outside: \(seen.subtracting(nucleus).sorted().prefix(10))")
        #expect(seen.contains(ranked[0]))
    }

    @Test("no configuration writes to the caller's logits")
    func inputUntouched() {
        let original = randomLogits(3000, seed: 12, scale: 5)
        let configurations = [
            SamplingParameters(seed: 1),
            SamplingParameters(repeatPenalty: 1.3, presencePenalty: 0.5, seed: 1),
            SamplingParameters(temperature: 0.9, topK: 0, topP: 0.9, minP: 0.02, repeatPenalty: 1.2, seed: 1),
            SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 1),
            SamplingParameters(temperature: 0, repeatPenalty: 1.5),
        ]
        for parameters in configurations {
            var logits = original
            var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
            for t in 0..<20 { sampler.accept(TokenID(t * 7)) }
            for _ in 0..<5 {
                let token = logits.withUnsafeMutableBufferPointer { sampler.sample(UnsafePointer($0.baseAddress!)) }
                sampler.accept(token)
            }
            #expect(logits == original, "logits changed with \(parameters)")
        }
    }
    @Test("top-p without top-k keeps exactly llama.cpp's nucleus, in rank order",
          arguments: [(UInt64(1), 0.5, Float(0.9)), (2, 3, 0.95), (3, 8, 0.5), (4, 1, 0.99), (5, 0.01, 0.3)])
    func nucleusExact(seed: UInt64, scale: Double, p: Float) {
        let n = 4096
        let logits = randomLogits(n, seed: seed, scale: scale)
        // reference: softmax in id order, cumulative in ranked order, stop at p
        let maxLogit = logits.max()!
        var sum: Float = 0
        for l in logits { sum += Foundation.exp(l - maxLogit) }
        let ranked = (0..<n).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var cumulative: Float = 0
        var expected: [TokenID] = []
        for id in ranked {
            expected.append(TokenID(id))
            cumulative += Foundation.exp(logits[id] - maxLogit) / sum
            if cumulative >= p { break }
        }
        var ids = [TokenID](repeating: 0, count: n)
        var work = [Float](repeating: 0, count: n)
        var otherIDs = [TokenID](repeating: 0, count: n)
        var otherLogits = [Float](repeating: 0, count: n)
        var keys = [UInt32](repeating: 0, count: 2 * n)
        var positions = [Int32](repeating: 0, count: 2 * n)
        let kept: [TokenID] = logits.withUnsafeBufferPointer { input in
            ids.withUnsafeMutableBufferPointer { a in
                work.withUnsafeMutableBufferPointer { b in
                    otherIDs.withUnsafeMutableBufferPointer { c in
                        otherLogits.withUnsafeMutableBufferPointer { d in
                            keys.withUnsafeMutableBufferPointer { k in
                                positions.withUnsafeMutableBufferPointer { q in
                                    var chain = CandidateChain(
                                        input: input.baseAddress!, vocabularySize: n,
                                        pairs: ((a.baseAddress!, b.baseAddress!), (c.baseAddress!, d.baseAddress!)),
                                        keys: k.baseAddress!, positions: q.baseAddress!)
                                    chain.startWhole()
                                    chain.topP(p)
                                    return chain.candidates
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(kept == expected, "kept \(kept.count) vs \(expected.count); first difference at \(String(describing: kept.indices.first { $0 >= expected.count || kept[$0] != expected[$0] }))")
    }
}

@Suite("byte-level decoding of code points outside the alphabet")
struct ByteLevelUnknownTests {
    @Test("a short text is echoed in the marker as llama.cpp does; a long one is not, so the size stays linear")
    func unknownMarker() {
        // "Ȁ" (U+0200) is not one of the 256 byte characters
        #expect(String(decoding: ByteLevel.decode(Array("aȀ".utf8)), as: UTF8.self) == "a[UNK_BYTE_0xc880aȀ]")
        let long = Array(String(repeating: "Ȁ", count: 20_000).utf8)
        let decoded = ByteLevel.decode(long)
        #expect(decoded.count == 20_000 * "[UNK_BYTE_0xc880]".utf8.count)
    }
}
