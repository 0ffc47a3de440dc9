import Foundation
import ShimmyTestSupport
import Testing

@Suite("shimmy chat")
struct ChatCommandTests {
    @Test("a conversation that outgrows the context loses its oldest messages and goes on, as Ollama's does")
    func outgrowsContext() throws {
        let lines = (1...6).map { "Tell me something about the number \($0), in one long sentence please." }
        let result = try runShimmy(["chat", "--ctx", "160", "--max-tokens", "24", "--temperature", "0"],
                                   input: lines.joined(separator: "\n") + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("oldest messages are left out"), "\(result.stderr)")
        #expect(!result.stderr.contains("error:"), "\(result.stderr)")
        #expect(!result.stdout.isEmpty)
    }
}
