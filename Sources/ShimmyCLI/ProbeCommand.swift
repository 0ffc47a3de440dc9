import ArgumentParser
import Foundation
import GGUF
import Shimmy

/// `shimmy probe`: loads a model, describes it and generates one token.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Load a model, describe it and generate one token to prove it runs.",
        discussion: "Example: shimmy probe --tensors models/SmolLM2-135M-Instruct.Q4_1.gguf")
    @OptionGroup var versionFlag: VersionFlag

    @Argument(help: "A model name or a path to a GGUF file; default: the default model.") var model: String?
    @Flag(help: "List every tensor.") var tensors = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .shortAndLong, help: "Print timings to standard error.") var verbose = false

    func run() async throws {
        let started = ContinuousClock.now
        defer { if verbose { printError("shimmy probe: \(ContinuousClock.now - started)") } }
        let descriptor = try ModelRegistry.standard.resolve(model)
        let llama = try LlamaModel.load(path: descriptor.path, name: descriptor.name)
        let file = llama.file
        var typeCounts: [String: Int] = [:]
        for t in file.tensors { typeCounts[t.type.name, default: 0] += 1 }
        let c = llama.config

        // one greedy token from a fixed prompt proves the forward pass runs
        let start = Date()
        var firstToken: [TokenID] = []
        var firstText = ""
        for try await event in llama.generate(GenerationRequest(prompt: .text("Hello"), sampling: .greedy, maxTokens: 1)) {
            if case .chunk(let text, let ids) = event {
                firstToken += ids
                firstText += text
            }
        }
        let milliseconds = Date().timeIntervalSince(start) * 1000

        if json {
            var object: [String: Any] = [
                "name": descriptor.name, "path": descriptor.path, "architecture": c.architecture,
                "parameters": llama.details.parameterCount, "tensor_types": typeCounts,
                "context_length": c.contextLength, "vocabulary_size": c.vocabularySize,
                "file_size": file.fileSize, "gguf_version": Int(file.version),
                "embedding_length": c.embeddingLength, "block_count": c.blockCount,
                "head_count": c.headCount, "head_count_kv": c.headCountKV,
                "test_token": ["prompt": "Hello", "ids": firstToken.map(Int.init), "text": firstText,
                               "milliseconds": milliseconds],
            ]
            if tensors {
                object["tensors"] = file.tensors.map {
                    ["name": $0.name, "type": $0.type.name, "dimensions": $0.dimensions, "bytes": $0.byteCount] as [String: Any]
                }
            }
            writeOut(jsonText(object, pretty: true) + "\n")
            return
        }
        var lines = [
            "model:           \(descriptor.name) (\(descriptor.path))",
            "architecture:    \(c.architecture)",
            "parameters:      \(llama.details.parameterCount) (\(String(format: "%.1f", Double(llama.details.parameterCount) / 1e6))M)",
            "tensor types:    " + typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "),
            "context length:  \(c.contextLength)",
            "vocabulary size: \(c.vocabularySize)",
            "file size:       \(file.fileSize) bytes (\(String(format: "%.1f", Double(file.fileSize) / 1048576)) MiB)",
            "layers:          \(c.blockCount) × (embedding \(c.embeddingLength), heads \(c.headCount)/\(c.headCountKV) kv, ffn \(c.feedForwardLength))",
            "test token:      \"Hello\" → \(firstToken.map(String.init).joined(separator: " ")) \(String(reflecting: firstText)) in \(String(format: "%.0f", milliseconds)) ms",
        ]
        if tensors {
            lines.append("tensors:")
            for t in file.tensors {
                lines.append("  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.type.name.padding(toLength: 5, withPad: " ", startingAt: 0)) \(t.dimensions) \(t.byteCount) bytes")
            }
        }
        writeOut(lines.joined(separator: "\n") + "\n")
    }
}
