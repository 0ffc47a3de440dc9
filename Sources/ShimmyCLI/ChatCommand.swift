import ArgumentParser
import Dispatch
import Foundation
import Shimmy
import Synchronization

/// `shimmy chat`: an interactive conversation; the history stays in the KV cache between turns.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Chat with a model in the terminal.",
        discussion: "Type a message and press Enter. Ctrl-C stops the current answer; Ctrl-D or /exit leaves; /reset forgets the conversation.")
    @OptionGroup var versionFlag: VersionFlag

    @OptionGroup var modelOptions: ModelOptionGroup
    @Option(help: "A system message (default: the template's own).") var system: String?
    @Option(parsing: .unconditional, help: "Most tokens per answer.") var maxTokens: Int = 1024
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.7
    @Option(parsing: .unconditional, help: "Random seed (-1 or none: a random one).") var seed: Int64?
    @Flag(name: .shortAndLong, help: "Print timings after each answer.") var verbose = false

    func validate() throws {
        try validateSampling(temperature: temperature)
        if maxTokens < 0 { throw ValidationError("--max-tokens must not be negative") }
    }

    func run() async throws {
        let model = try modelOptions.load()
        let context = try model.makeContext()
        let current = Mutex<StopFlag?>(nil)
        onSignals([SIGINT]) { _ in
            let flag = current.withLock { $0 }
            if let flag { flag.set() } else { Foundation.exit(130) }
        }
        let interactive = isatty(0) != 0
        var messages: [ChatMessage] = system.map { [.system($0)] } ?? []
        if interactive { printError("shimmy chat with \(model.modelName): Ctrl-C stops an answer, Ctrl-D leaves.") }
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine(strippingNewline: true) else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/reset" {
                messages = system.map { [.system($0)] } ?? []
                try context.truncate(to: 0)
                continue
            }
            messages.append(.user(line))
            messages = try fitted(messages, model: model, capacity: context.capacity)
            let flag = StopFlag()
            current.withLock { $0 = flag }
            var answer = ""
            let request = GenerationRequest(prompt: .messages(messages),
                                            sampling: SamplingParameters(temperature: temperature, seed: seedValue(seed)),
                                            maxTokens: maxTokens)
            do {
                let stats = try model.run(request, in: context, stop: flag) { event in
                    if case .chunk(let piece, _) = event, !piece.isEmpty {
                        answer += piece
                        writeOut(piece)
                    }
                }
                writeOut("\n")
                if verbose {
                    printError(String(format: "[%d prompt tokens, %d generated, %.1f tokens/s, %@]",
                                      stats.promptTokens, stats.completionTokens,
                                      rate(stats.completionTokens, stats.timings.generationMilliseconds),
                                      stats.finishReason.rawValue))
                }
            } catch let error as ShimmyError {
                current.withLock { $0 = nil }  // Ctrl-C at the next prompt leaves again
                writeOut("\n")
                printError("error: \(error)")
                if error.code == .invalidRequest {  // the conversation no longer fits: start over
                    messages = system.map { [.system($0)] } ?? []
                    try context.truncate(to: 0)
                    continue
                }
            }
            current.withLock { $0 = nil }
            messages.append(.assistant(answer))
        }
    }

    /// The conversation, its oldest messages left out when it has outgrown the context (`ChatTruncation`, as
    /// Ollama does), leaving room for an answer of `--max-tokens` (at most half the context); unchanged when it
    /// fits, or when even the last message does not (the run then reports it).
    func fitted(_ messages: [ChatMessage], model: LlamaModel, capacity: Int) throws -> [ChatMessage] {
        guard let kept = try ChatTruncation.fitted(messages, tokens: try model.countTokens(.messages(messages)),
                                                   contextLength: capacity, maxTokens: maxTokens,
                                                   count: { try model.countTokens(.messages($0)) })
        else { return messages }
        printError("(the conversation outgrew the context of \(capacity) tokens: its \(messages.count - kept.messages.count) "
                   + "oldest messages are left out)")
        return kept.messages
    }
}
