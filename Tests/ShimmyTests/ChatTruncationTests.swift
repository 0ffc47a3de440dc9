import Foundation
import Shimmy
import ShimmyTestSupport
import Testing

@Suite("Ollama's conversation truncation")
struct ChatTruncationTests {
    @Test("the doubling and bisecting search keeps what a scan from the last message keeps, counting O(log n) prompts")
    func sameAsScan() throws {
        var random = SplitMix64(state: 7)
        for _ in 0..<300 {
            let n = 2 + Int(random.next() % 60)
            let messages = (0..<n).map { i in
                ChatMessage(role: random.next() % 5 == 0 ? "system" : (i % 2 == 0 ? "user" : "assistant"),
                            content: String(repeating: "w ", count: Int(random.next() % 12)))
            }
            // a prompt's tokens: 2 per message and one per word
            let tokens = { (kept: [ChatMessage]) in kept.reduce(0) { $0 + 2 + $1.content.split(separator: " ").count } }
            let contextLength = 4 + Int(random.next() % 120), reserve = Int(random.next() % UInt64(contextLength / 2 + 1))
            var counted = 0
            let found = ChatTruncation.recentMessages(messages, contextLength: contextLength, reserve: reserve) {
                counted += 1
                return tokens($0)
            }
            // the scan: every start from the last message back, keeping the smallest that fits the budget
            func kept(_ start: Int) -> [ChatMessage] { messages[..<start].filter { $0.role == "system" } + messages[start...] }
            var expected: [ChatMessage]?
            if tokens(kept(n - 1)) < contextLength {
                expected = kept(n - 1)
                for start in stride(from: n - 2, through: 1, by: -1) where tokens(kept(start)) <= contextLength - reserve {
                    expected = kept(start)
                }
            }
            #expect(found?.messages == expected, "n \(n), context \(contextLength), reserve \(reserve)")
            if let found { #expect(found.tokens == tokens(found.messages)) }
            #expect(counted <= 2 + 2 * Int(log2(Double(n)) + 1), "\(counted) prompts counted for \(n) messages")
        }
    }
}
