import ArgumentParser

/// `shimmy perplexity`: Measure perplexity over a text file, as llama-perplexity does.
struct PerplexityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perplexity", abstract: "Measure perplexity over a text file, as llama-perplexity does.")

    func run() async throws {
        throw ValidationError("shimmy perplexity is not built yet")
    }
}
