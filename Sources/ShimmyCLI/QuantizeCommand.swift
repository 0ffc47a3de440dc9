import ArgumentParser

/// `shimmy quantize`: Convert a GGUF model to another tensor type (like llama-quantize --pure).
struct QuantizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quantize", abstract: "Convert a GGUF model to another tensor type (like llama-quantize --pure).")

    func run() async throws {
        throw ValidationError("shimmy quantize is not built yet")
    }
}
