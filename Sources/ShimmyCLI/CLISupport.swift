import ArgumentParser
import Foundation
import Shimmy
import ShimmyServer

/// Options every model-running command shares.
struct ModelOptionGroup: ParsableArguments {
    @Option(name: .shortAndLong, help: "A model name (see `shimmy list`) or a path to a GGUF file; default: the default model.")
    var model: String?

    @Option(parsing: .unconditional, help: "Context size in tokens (default: the model's, at most 4096).")
    var ctx: Int?

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads (default: \(defaultThreadsHelp)).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let ctx, ctx < 1 { throw ValidationError("--ctx must be at least 1") }
    }

    /// Finds and loads the model.
    func load(contextLength: Int? = nil) throws -> LlamaModel {
        let descriptor = try ModelRegistry.standard.resolve(model)
        let loaded = try LlamaModel.load(path: descriptor.path, name: descriptor.name,
                                         options: ModelOptions(contextLength: contextLength ?? ctx, threads: threads))
        warnAboveTrainedContext(loaded)
        return loaded
    }
}

/// `--prompt TEXT` or `--prompt-file PATH`, exactly one of them (`generate`, `embed`).
struct PromptOptionGroup: ParsableArguments {
    @Option(name: .shortAndLong, help: "The prompt text.") var prompt: String?
    @Option(help: "Read the prompt from this file (bytes as they are).") var promptFile: String?

    func validate() throws {
        if (prompt == nil) == (promptFile == nil) { throw ValidationError("give exactly one of --prompt and --prompt-file") }
    }

    /// The prompt's text (a file's bytes decoded as UTF-8).
    func text() throws -> String {
        guard let promptFile else { return prompt ?? "" }
        guard let data = FileManager.default.contents(atPath: promptFile) else {
            throw CLIError("cannot read the prompt file \(promptFile)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Warns on standard error, as llama.cpp does, when the context asked for is longer than the one the model was
/// trained on: positions past it were never seen in training, and the output may degrade.
func warnAboveTrainedContext(_ model: LlamaModel) {
    guard model.contextLength > model.config.contextLength else { return }
    printError("warning: a context of \(model.contextLength) tokens is longer than the \(model.config.contextLength) "
               + "\(model.modelName) was trained on; output past that may degrade")
}

/// What a `--threads` help says its default is (`ModelOptions.defaultThreads`).
let defaultThreadsHelp = "$SHIMMY_THREADS, else one per core this process may use"

/// A `--seed` value as the API reads a `seed` (`SamplingParameters.seed(requested:)`); none is a random seed.
func seedValue(_ seed: Int64?) -> UInt64? {
    seed.flatMap { SamplingParameters.seed(requested: $0) }
}

/// A failure while a command runs: printed as `Error: message`, without the usage text a `ValidationError` adds.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Checks sampling options as the API checks its fields: a finite temperature of 0 or more, top-p and min-p in
/// 0...1, top-k of 0 or more, a repeat penalty in 0...100 (0 and 1 turn it off), a look-back of -1 or more.
func validateSampling(temperature: Float, topP: Float = 1, minP: Float = 0, topK: Int = 0, repeatPenalty: Float = 1,
                      repeatLastN: Int = 0) throws {
    guard temperature.isFinite, temperature >= 0 else { throw ValidationError("--temperature must be a number of 0 or more") }
    guard (0...1).contains(topP) else { throw ValidationError("--top-p must be in 0...1") }
    guard (0...1).contains(minP) else { throw ValidationError("--min-p must be in 0...1") }
    guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more") }
    guard RequestRanges.repeatPenalty.contains(Double(repeatPenalty)) else {
        throw ValidationError("--repeat-penalty must be in 0...100")
    }
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

/// The handlers `onSignals` installed, by signal number, and the pipe its signal handler writes to.
nonisolated(unsafe) private var signalHandlers: [Int32: @Sendable (Int32) -> Void] = [:]
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1
private let signalLock = NSLock()

/// Runs `handler` on a thread of its own (not inside a signal handler) each time one of `signals` arrives,
/// instead of the default action. The signal handler is installed before this returns (a dispatch source's
/// starts later: a signal in between was lost), and only writes the signal's number to a pipe.
func onSignals(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
    signalLock.lock()
    defer { signalLock.unlock() }
    if signalPipeWrite < 0 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // a full pipe drops a signal rather than block the thread the signal interrupted
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        signalPipeWrite = fds[1]
        let readEnd = fds[0]
        let thread = Thread {
            var number: UInt8 = 0
            while true {
                let n = read(readEnd, &number, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                let handler = signalLock.withLock { signalHandlers[Int32(number)] }
                handler?(Int32(number))
            }
        }
        thread.name = "shimmy-signals"
        thread.start()
    }
    for number in signals {
        signalHandlers[number] = handler
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            let saved = errno
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(signalPipeWrite, &byte, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }
}
