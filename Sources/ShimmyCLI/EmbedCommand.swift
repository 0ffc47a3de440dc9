import ArgumentParser
import Foundation
import Shimmy
import ShimmyServer

/// `shimmy embed`: print the embedding of a text as one JSON array, as `/v1/embeddings` computes it.
///
/// ```
/// shimmy embed --prompt "The sky is blue"            # [0.0123,-0.0456,...]  (unit length)
/// shimmy embed --raw --prompt "The sky is blue"      # the hidden state itself
/// shimmy embed --dimensions 64 --prompt-file doc.txt
/// ```
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Print the embedding of a text.",
        discussion: """
            The embedding is the final hidden state of the text's last token (after the output norm), as llama.cpp \
            gives it with --pooling last and as the server's /v1/embeddings and /api/embed do, scaled to unit length \
            unless --raw is given. The text is tokenized as a prompt is (special tokens parsed, BOS only if the \
            model asks for it). A text longer than the context is an error unless --truncate is given.
            """)
    @OptionGroup var versionFlag: VersionFlag

    @OptionGroup var modelOptions: ModelOptionGroup
    @OptionGroup var promptOptions: PromptOptionGroup
    @Flag(help: "The raw hidden state, not scaled to unit length (Ollama's /api/embeddings).") var raw = false
    @Option(parsing: .unconditional, help: "Keep only the first N values (scaled again unless --raw).")
    var dimensions: Int?
    @Flag(help: "Cut a text longer than the context to its beginning instead of failing.") var truncate = false
    @Flag(name: .shortAndLong, help: "Print the token count and timing to standard error.") var verbose = false

    func validate() throws {
        if let dimensions, dimensions < 1 { throw ValidationError("--dimensions must be at least 1") }
    }

    func run() async throws {
        let text = try promptOptions.text()
        let model = try modelOptions.load()
        let started = ContinuousClock.now
        let embedding = try await model.embed(EmbeddingRequest(input: .text(text), normalize: !raw, dimensions: dimensions,
                                                               truncate: truncate))
        if verbose {
            printError("shimmy embed: \(embedding.tokens) tokens\(embedding.truncated ? " (cut to the context)" : ""), "
                       + "\(ContinuousClock.now - started)")
        }
        writeOut(JSONValue.numbers(embedding.vector).serialized + "\n")
    }
}
