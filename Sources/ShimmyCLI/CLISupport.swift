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

/// Checks sampling options as the API checks its fields: a finite temperature of 0 or more, top-p and min-p in
/// 0...1, top-k of 0 or more, a finite positive repeat penalty, a look-back of -1 or more.
func validateSampling(temperature: Float, topP: Float = 1, minP: Float = 0, topK: Int = 0, repeatPenalty: Float = 1,
                      repeatLastN: Int = 0) throws {
    guard temperature.isFinite, temperature >= 0 else { throw ValidationError("--temperature must be a number of 0 or more") }
    guard (0...1).contains(topP) else { throw ValidationError("--top-p must be in 0...1") }
    guard (0...1).contains(minP) else { throw ValidationError("--min-p must be in 0...1") }
    guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more") }
    guard repeatPenalty.isFinite, repeatPenalty > 0 else { throw ValidationError("--repeat-penalty must be a positive number") }
    guard repeatLastN >= -1 else { throw ValidationError("--repeat-last-n must be -1 or more") }
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

/// Signal sources that stay alive for the whole run.
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []

/// Runs `handler` on a dispatch queue (not inside a signal handler) each time one of `signals` arrives, instead of
/// the default action. Call from the main thread, before the work the signals interrupt.
func onSignals(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
    for number in signals {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { handler(number) }
        source.resume()
        signalSources.append(source)
    }
}
