import ArgumentParser
import Foundation
import Shimmy

/// `shimmy perplexity`: llama-perplexity's measurement.
struct PerplexityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity", abstract: "Measure perplexity over a text file, as llama-perplexity does.",
        discussion: "Example: shimmy perplexity --file wiki.test.raw --ctx 512 --chunks 40")
    @OptionGroup var versionFlag: VersionFlag

    @Option(name: .shortAndLong, help: "A model name or a path to a GGUF file; default: the default model.")
    var model: String?
    @Option(name: .shortAndLong, help: "The text file.") var file: String
    @Option(parsing: .unconditional, help: "Tokens per chunk.") var ctx: Int = 512
    @Option(parsing: .unconditional, help: "Chunks to evaluate (default: all).") var chunks: Int?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads (default: \(defaultThreadsHelp)).")
    var threads: Int?
    @Flag(help: "Print one JSON object at the end.") var json = false
    @Flag(name: .shortAndLong, help: "More output.") var verbose = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1") }
        if ctx < 4 { throw ValidationError("--ctx must be at least 4") }
    }

    func run() async throws {
        guard let text = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read \(file)")
        }
        let descriptor = try ModelRegistry.standard.resolve(model)
        let llama = try LlamaModel.load(path: descriptor.path, name: descriptor.name,
                                        options: ModelOptions(contextLength: ctx, threads: threads))
        warnAboveTrainedContext(llama)
        let start = Date()
        let result = try llama.perplexity(text: [UInt8](text), contextSize: ctx, chunks: chunks, threads: threads) {
            index, estimate in
            if !json { printError(String(format: "[%d]%.4f", index + 1, estimate)) }
        }
        let seconds = Date().timeIntervalSince(start)
        if json {
            var object: [String: Any] = [
                "ppl": result.perplexity, "ppl_error": result.error, "chunks": result.chunks, "n_ctx": result.contextSize,
                "scored_tokens": result.scoredTokens, "text_tokens": result.textTokens,
                "running_estimates": result.runningEstimates, "seconds": seconds,
            ]
            object["model"] = descriptor.name
            writeOut(jsonText(object) + "\n")
        } else {
            writeOut(String(format: "Final estimate: PPL = %.4f +/- %.5f\n", result.perplexity, result.error))
            if verbose {
                printError(String(format: "%d chunks of %d tokens, %d predictions, %.1f s", result.chunks,
                                  result.contextSize, result.scoredTokens, seconds))
            }
        }
    }
}
