import ArgumentParser
import Foundation
import Shimmy

/// `shimmy generate`: streams the continuation of a raw-text prompt.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text from a prompt.",
        discussion: """
            The prompt is raw text: special tokens written in it are parsed as llama.cpp does, BOS only if the model \
            asks for it. Example: shimmy generate --prompt "The capital of France is" --max-tokens 20
            """)
    @OptionGroup var versionFlag: VersionFlag

    @OptionGroup var modelOptions: ModelOptionGroup
    @OptionGroup var promptOptions: PromptOptionGroup
    @Option(parsing: .unconditional, help: "Most tokens to generate.") var maxTokens: Int = 100
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.7
    @Option(parsing: .unconditional, help: "Top-k (0 disables).") var topK: Int = 40
    @Option(parsing: .unconditional, help: "Top-p (1 disables).") var topP: Float = 0.95
    @Option(parsing: .unconditional, help: "Min-p (0 disables).") var minP: Float = 0.05
    @Option(parsing: .unconditional, help: "Repeat penalty (0 or 1 disables).") var repeatPenalty: Float = 1.0
    @Option(parsing: .unconditional, help: "Tokens the repeat penalty looks back over (-1: the whole context).")
    var repeatLastN: Int = 64
    @Option(parsing: .unconditional,
            help: "Random seed, a signed 64-bit integer as the API takes (same seed and request: same output; -1 or none: a random one).")
    var seed: Int64?
    @Option(help: "Stop before this string (repeatable).") var stop: [String] = []
    @Flag(help: "Print one JSON object instead of streaming text.") var json = false
    @Option(help: "json: the text is one JSON object and nothing else (JSON mode, Ollama's --format json).")
    var format: String?
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must not be negative") }
        if let format, format != "json" { throw ValidationError("--format must be json, got '\(format)'") }
        try validateSampling(temperature: temperature, topP: topP, minP: minP, topK: topK, repeatPenalty: repeatPenalty,
                             repeatLastN: repeatLastN)
    }

    func run() async throws {
        let text = try promptOptions.text()
        let model = try modelOptions.load()
        let sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                          repeatPenalty: repeatPenalty, repeatLastN: repeatLastN, seed: seedValue(seed))
        let request = GenerationRequest(prompt: .text(text), sampling: sampling, maxTokens: maxTokens, stop: stop,
                                        format: format == nil ? nil : .json)
        var output = ""
        var ids: [TokenID] = []
        var stats: GenerationStats?
        for try await event in model.generate(request) {
            switch event {
            case .chunk(let piece, let tokens):
                ids += tokens
                if json { output += piece } else if !piece.isEmpty { writeOut(piece) }
            case .done(let s):
                stats = s
            }
        }
        guard let stats else { return }
        if json {
            let t = stats.timings
            let object: [String: Any] = [
                "text": output, "tokens": ids.map(Int.init), "finish_reason": stats.finishReason.rawValue,
                "usage": ["prompt_tokens": stats.promptTokens, "completion_tokens": stats.completionTokens,
                          "total_tokens": stats.promptTokens + stats.completionTokens],
                "timings": ["prompt_ms": t.promptMilliseconds, "generation_ms": t.generationMilliseconds,
                            "prompt_tokens_per_second": rate(stats.promptTokens, t.promptMilliseconds),
                            "generation_tokens_per_second": rate(stats.completionTokens, t.generationMilliseconds)],
            ]
            writeOut(jsonText(object) + "\n")
        } else {
            writeOut("\n")
        }
        if verbose {
            printError(String(format: "prompt: %d tokens, %.1f ms; generation: %d tokens, %.1f ms (%.1f tokens/s); %@",
                              stats.promptTokens, stats.timings.promptMilliseconds, stats.completionTokens,
                              stats.timings.generationMilliseconds,
                              rate(stats.completionTokens, stats.timings.generationMilliseconds),
                              stats.finishReason.rawValue))
        }
    }
}

/// Tokens per second.
func rate(_ tokens: Int, _ milliseconds: Double) -> Double {
    milliseconds > 0 ? Double(tokens) * 1000 / milliseconds : 0
}
