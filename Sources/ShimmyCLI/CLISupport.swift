import ArgumentParser
import Foundation
import Shimmy

/// Options every model-running command shares.
struct ModelOptionGroup: ParsableArguments {
    @Option(name: .shortAndLong, help: "A model name (see `shimmy list`) or a path to a GGUF file; default: the default model.")
    var model: String?

    @Option(help: "Context size in tokens (default: the model's, at most 4096).")
    var ctx: Int?

    @Option(name: .shortAndLong, help: "Worker threads (default: one per core).")
    var threads: Int?

    /// Finds and loads the model.
    func load(contextLength: Int? = nil) throws -> LlamaModel {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let ctx, ctx < 1 { throw ValidationError("--ctx must be at least 1") }
        let descriptor = try ModelRegistry.standard.resolve(model)
        return try LlamaModel.load(path: descriptor.path, name: descriptor.name,
                                   options: ModelOptions(contextLength: contextLength ?? ctx, threads: threads))
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Writes text to standard output at once (streaming).
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// JSON text of a value made of dictionaries, arrays, strings and numbers, keys sorted.
func jsonText(_ value: Any, pretty: Bool = false) -> String {
    var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
    if pretty { options.insert(.prettyPrinted) }
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: options) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
