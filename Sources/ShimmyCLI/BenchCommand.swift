import ArgumentParser

/// `shimmy bench`: Measure prompt processing and generation speed (llama-bench style).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure prompt processing and generation speed (llama-bench style).")

    func run() async throws {
        throw ValidationError("shimmy bench is not built yet")
    }
}
