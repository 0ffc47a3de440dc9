import ArgumentParser
import Foundation
import Shimmy

/// `shimmy`: the command-line tool.
struct ShimmyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shimmy",
        abstract: "Local LLM inference: serve, generate and inspect GGUF models.",
        version: "1.1.0",
        subcommands: [
            ServeCommand.self, GenerateCommand.self, ChatCommand.self, PerplexityCommand.self, ProbeCommand.self,
            QuantizeCommand.self, TokenizeCommand.self, ListCommand.self, DiagCommand.self, BenchCommand.self,
        ]
    )
}

@main
enum ShimmyMain {
    static func main() async {
        if VersionFlag.requested(in: CommandLine.arguments) {
            print(ShimmyCommand.configuration.version)
            return
        }
        await ShimmyCommand.main()
    }
}
